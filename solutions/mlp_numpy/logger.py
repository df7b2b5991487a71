"""Keeps the training curve, and prints it now and then."""


class Logger:
    """``log(epoch, loss=...)`` stores the values; prints every ``every`` epochs (0: never)."""

    def __init__(self, every: int = 0):
        self.every = every
        self.history: list[dict] = []

    def log(self, epoch: int, **values: float) -> None:
        self.history.append({"epoch": epoch, **values})
        if self.every and epoch % self.every == 0:
            print(f"epoch {epoch:4d} " + " ".join(f"{k} {v:.4f}" for k, v in values.items()))
