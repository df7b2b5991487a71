"""Public tests of the lstm_lm lab (run them with `autograder check lstm_lm`)."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from autograder.testing import Fail, Run, signature, test

SIZE, VOCAB = 16, 23  # fixed-weight tests: embedding_dim = hidden_size = SIZE (the course's 128 in a hidden test)
CONTINUATION = 10  # words generated after each prompt in the judged tests
BUDGET = dict(epochs=3, seq_len=10, batch_size=32)  # training on the embedded default (about 10 s of one core)
REAL_BUDGET = dict(epochs=1, seq_len=10, batch_size=32)  # training on WikiText-2 valid (--data-dir): ~3 CPU minutes
TIMEOUT, REAL_TIMEOUT = 300.0, 1800.0  # wall seconds for each training, with room for a busy machine


def lm_weights(seed: int, vocab_size: int = VOCAB, size: int = SIZE) -> dict:
    """Fixed random float64 weights of a LanguageModel with embedding_dim = hidden_size = size, scaled so that
    greedy generation wanders over many words instead of settling on one."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / math.sqrt(size)

    def cell(inputs: int) -> dict:
        return {"weight_ih": rng.uniform(-4 * scale, 4 * scale, (4 * size, inputs)),
                "weight_hh": rng.uniform(-3 * scale, 3 * scale, (4 * size, size)),
                "bias_ih": rng.uniform(-scale, scale, 4 * size), "bias_hh": rng.uniform(-scale, scale, 4 * size)}

    return {"embedding": rng.normal(0.0, 2.0, (vocab_size, size)), "cells": [cell(size), cell(size)],
            "output": rng.normal(0.0, 1.0, (vocab_size, size)), "bias": rng.normal(0.0, 0.1, vocab_size)}


def token_ids(seed: int, shape: tuple, vocab_size: int = VOCAB) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab_size, size=shape).astype(np.int64)


# ---- recognising known mistakes by what the code does, however it is written

@signature("state_reset_each_step", probe="forward")
def _each_position_sees_only_its_word(got, want, call) -> bool:
    """The first position is right, and positions holding the same word get the same logits wherever they are:
    nothing is remembered from one word to the next."""
    logits, inp = np.asarray(got["logits"]), np.asarray(call.args[1])
    if logits.shape != np.asarray(want["logits"]).shape or not np.allclose(logits[:, 0], want["logits"][:, 0]):
        return False
    first = {}
    for (b, t), word in np.ndenumerate(inp):
        first.setdefault(int(word), logits[b, t])
    return all(np.allclose(logits[b, t], first[int(word)]) for (b, t), word in np.ndenumerate(inp))


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@signature("predict_probabilities", probe="predict")
def _scores_are_the_probabilities(got, want, call) -> bool:
    """predict returned softmax(logits) (however computed): the probe's log_softmax of it is log_softmax(p)."""
    return np.shape(got) == np.shape(want) and np.allclose(got, log_softmax(np.exp(want)), atol=1e-6)


@signature("generation_not_fed_back", probe="generate")
def _continuation_ignores_its_own_words(got, want, call) -> bool:
    """The first word is right and forward carries its state, but continuing from the prompt and that first
    word does not give the rest: the later words do not follow from the words generated before them."""
    tokens, want_tokens = np.asarray(got["tokens"]), np.asarray(want["tokens"])
    return (got["carries_state"] is True and tokens.shape == want_tokens.shape
            and np.array_equal(tokens[:, 0], want_tokens[:, 0])
            and not np.array_equal(np.asarray(got["continued"]), tokens[:, 1:]))


@signature("state_not_carried", probe="generate")
def _forward_forgets_the_state_it_is_given(got, want, call) -> bool:
    return got["carries_state"] is False


@signature("state_not_carried", probe="forward")
def _second_call_starts_afresh(got, want, call) -> bool:
    """The logits of a whole sequence are right, those continued from a returned state are not."""
    return (np.shape(got["logits"]) == np.shape(want["logits"]) and np.allclose(got["logits"], want["logits"])
            and not np.allclose(got["continued"], want["continued"]))


@signature("targets_not_shifted", probe="sequences")
def _targets_are_the_inputs(got, want, call) -> bool:
    return np.shape(got["targets"]) == np.shape(got["inputs"]) and np.array_equal(got["targets"], got["inputs"])


def check_layers(run: Run, weights: dict, inp: np.ndarray) -> None:
    """Both cells must matter: changing either cell's weights must change the logits."""
    used = run.student("layer_use", weights, inp)
    if type(used) is not dict:
        raise Fail("the layer check did not get a result back")
    unused = [name for name in ("first", "second") if used.get(name) is not True]
    if unused:
        raise Fail(f"changing the weights of the {' and the '.join(unused)} LSTM cell does not change the logits: "
                   "that cell is not used", mistake="one_layer")


# ---- unit tests on fixed weights

@test(points=2)
def forward_matches_reference(run: Run):
    """forward: logits of every position, and the state carried into a second call, equal the reference"""
    weights, inp = lm_weights(1), token_ids(2, (3, 7))
    try:
        run.expect_match("forward", weights, inp, split=4, rtol=1e-7, atol=1e-9,
                         what="forward on 3 sequences of 7 words (logits; then the last 3 words continued from the "
                              "state after the first 4)")
    except Fail:
        check_layers(run, weights, inp)  # a cell that does not matter is the mistake to name
        raise


@test(points=1)
def both_layers_used(run: Run):
    """both LSTM cells are used: the logits depend on the weights of each"""
    check_layers(run, lm_weights(3), token_ids(4, (2, 5)))


@test(points=1)
def predict_matches_reference(run: Run):
    """predict returns the logits of the next word (B, V)"""
    run.expect_match("predict", lm_weights(5), token_ids(6, (4, 9)), rtol=1e-7, atol=1e-9,
                     what="the next-word log-probabilities of predict's scores (log_softmax of them) for 4 sequences "
                          "of 9 words")


@test(points=2)
def generate_matches_reference(run: Run):
    """generate: greedy continuation, each word fed back in with the state, equals the reference"""
    run.expect_match("generate", lm_weights(41), token_ids(42, (3, 5)), forward=6,
                     what="generate(prompts of 5 words, forward=6): the words; the words generated after appending "
                          "the first one to the prompt; whether forward continues from the state it is given")


@test(points=1)
def sequences_match_reference(run: Run):
    """make_sequences: inputs and targets one word later, in consecutive windows"""
    tokens = np.arange(23, dtype=np.int64)  # each token is its own position: the windows show themselves
    run.expect_match("sequences", tokens, seq_len=5, what="make_sequences(tokens 0..22, seq_len=5)")


@test(points=1)
def training_batches_match_reference(run: Run):
    """train_epoch with your make_sequences and train_step scores each batch like the reference (weights frozen)"""
    run.expect_match("epoch_losses", lm_weights(9), token_ids(10, (61,)), seq_len=5, batch_size=4, seed=0,
                     rtol=1e-7, what="the loss of each batch of one epoch (61 words, seq_len=5, batch_size=4) "
                                     "with a learning rate of 0")


@test(points=1)
def train_step_lowers_the_loss(run: Run):
    """train_step takes steps that lower the loss on a fixed batch"""
    inputs, targets = token_ids(11, (4, 6)), token_ids(12, (4, 6))
    got = run.student("training_steps", lm_weights(13), inputs, targets, lr=0.5, steps=5)
    want = run.reference("training_steps", lm_weights(13), inputs, targets, lr=0.5, steps=5)
    first, expected = got["losses"][0], want["losses"][0]
    if not math.isclose(first, expected, rel_tol=1e-7):
        raise Fail(f"before any step, train_step returned a loss of {first:.6f} on a batch where the mean "
                   f"cross-entropy of the logits against the targets is {expected:.6f}")
    if not got["moved"]:
        raise Fail("after 5 calls of train_step the parameters have not changed: take an optimizer step")
    if not got["losses"][-1] < first - 0.1 * (expected - want["losses"][-1]):
        raise Fail(f"5 steps of SGD (lr=0.5) on one batch took its loss from {first:.4f} to {got['losses'][-1]:.4f} "
                   f"(the reference: to {want['losses'][-1]:.4f}): each step must follow the gradient of this "
                   "batch's loss (zero the old gradients, backward, step)")


# ---- the trained model: next-word NLL and generation, scored in the grader

def trained(run: Run):
    """The dataset, and the student's model trained once per grading on its training text (the public and the
    hidden tests share this one training): logits for the validation and test fixtures, continuations of the
    prompts. The fixtures' next words and the test prompts' sources never reach the sandbox."""
    data = run.dataset("word_lm")
    real = data.info["source"] != "pydoc_data"
    result = run.student("train_and_predict", data.train_x, len(data.info["vocab"]), data.val_x, data.test_x,
                         data.info["generation_val"], data.info["generation_test"], forward=CONTINUATION, seed=0,
                         **(REAL_BUDGET if real else BUDGET), cache=True, timeout=REAL_TIMEOUT if real else TIMEOUT)
    if type(result) is not dict:
        raise Fail("the training probe did not get a result back")
    return data, result, "wikitext" if real else "docs"


def next_word_nll(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood (nats) of the true next words under softmax(logits)."""
    return float(-np.mean(log_softmax(logits)[np.arange(len(labels)), labels]))


def score_nll(run: Run, logits, labels: np.ndarray, vocab_size: int, label: str, threshold: str) -> float:
    """The NLL of the held-out next words (kept here) under the logits the student's model gave."""
    logits = np.asarray(logits)
    if logits.shape != (len(labels), vocab_size):
        raise Fail(f"predict should return logits of shape {(len(labels), vocab_size)} for {len(labels)} "
                   f"sequences, got {logits.shape}")
    return run.metric(label, next_word_nll(logits, labels), threshold, fmt=".3f")


class KneserNey:
    """The judge of generated text: an interpolated Kneser-Ney trigram model of the training text (absolute
    discount D at each order, continuation counts below the top order, a uniform floor under the unigrams)."""

    def __init__(self, tokens: np.ndarray, vocab_size: int, discount: float = 0.75):
        words = [int(w) for w in tokens]
        self.vocab_size, self.d = vocab_size, discount
        self.trigrams = Counter(zip(words, words[1:], words[2:]))
        self.bigram_context, self.bigram_types = Counter(), Counter()  # c(u v .), N1+(u v .)
        self.continuations = Counter()  # N1+(. v w)
        for (u, v, w), count in self.trigrams.items():
            self.bigram_context[u, v] += count
            self.bigram_types[u, v] += 1
            self.continuations[v, w] += 1
        self.continuation_context, self.continuation_types = Counter(), Counter()  # N1+(. v .), N1+(v .)
        for (v, w), count in self.continuations.items():
            self.continuation_context[v] += count
            self.continuation_types[v] += 1
        self.unigram_types = Counter(w for (v, w) in set(zip(words, words[1:])))  # N1+(. w)
        self.unigram_total = sum(self.unigram_types.values())

    def p_unigram(self, w: int) -> float:
        return 0.9 * self.unigram_types[w] / self.unigram_total + 0.1 / self.vocab_size

    def p_bigram(self, v: int, w: int) -> float:
        total = self.continuation_context[v]
        if not total:
            return self.p_unigram(w)
        return (max(self.continuations[v, w] - self.d, 0.0) + self.d * self.continuation_types[v] * self.p_unigram(w)) / total

    def p(self, u: int, v: int, w: int) -> float:
        total = self.bigram_context[u, v]
        if not total:
            return self.p_bigram(v, w)
        return (max(self.trigrams[u, v, w] - self.d, 0.0) + self.d * self.bigram_types[u, v] * self.p_bigram(v, w)) / total

    def perplexity(self, prompts: np.ndarray, continuations: np.ndarray) -> float:
        """exp of the mean negative log-probability of every generated word, each given the two words before
        it (the prompt's last two words before the first)."""
        nll, count = 0.0, 0
        for prompt, words in zip(prompts, continuations):
            text = [int(w) for w in prompt[-2:]] + [int(w) for w in words]
            for i in range(2, len(text)):
                nll -= math.log(self.p(text[i - 2], text[i - 1], text[i]))
                count += 1
        return math.exp(nll / count)


def judge(data) -> KneserNey:
    """The judge of a dataset's training text, built once per grading."""
    if "judge" not in data.info:
        data.info["judge"] = KneserNey(data.train_x, len(data.info["vocab"]))
    return data.info["judge"]


def degenerate(prompt: np.ndarray, words: np.ndarray) -> str | None:
    """Why a continuation is not text that a model wrote word after word, if it is not."""
    if len(set(words.tolist())) == 1:
        return "repeated"
    n, text = len(words), prompt.tolist()
    if any(text[i:i + n] == words.tolist() for i in range(len(text) - n + 1)):
        return "echoed"
    return None


def score_generation(run: Run, data, generated, prompts: np.ndarray, label: str, threshold: str) -> float:
    """Checks that the continuations are words the model wrote after the prompt, then the judge's perplexity."""
    generated, vocab_size = np.asarray(generated), len(data.info["vocab"])
    if generated.shape != (len(prompts), CONTINUATION):
        raise Fail(f"generate should return {CONTINUATION} words for each of {len(prompts)} prompts: "
                   f"expected shape {(len(prompts), CONTINUATION)}, got {generated.shape}")
    if generated.dtype.kind not in "iu" or generated.min() < 0 or generated.max() >= vocab_size:
        raise Fail(f"generate should return token ids in 0..{vocab_size - 1}, got dtype {generated.dtype}")
    kinds = Counter(degenerate(p, g) for p, g in zip(prompts, generated))
    run.note(f"{label}: {kinds['repeated']} of {len(prompts)} continuations repeat one word, "
             f"{kinds['echoed']} copy the prompt")
    if kinds["repeated"] > len(prompts) / 2:
        raise Fail("most continuations are one word repeated: generate must feed each word it predicts back in, "
                   "so that the next word follows from it", mistake="generation_not_fed_back")
    if kinds["echoed"] > len(prompts) / 2:
        raise Fail("most continuations copy words of the prompt: generate returns only the new words")
    return run.metric(label, judge(data).perplexity(prompts, generated), threshold, fmt=".1f")


@test(points=3, slow=True)
def validation_nll(run: Run):
    """the trained model's next-word NLL on the validation fixtures"""
    data, result, kind = trained(run)
    return score_nll(run, result.get("val_logits"), data.val_y, len(data.info["vocab"]), "validation NLL",
                     f"nll_{kind}_val")


@test(points=2, slow=True)
def validation_generation(run: Run):
    """the trained model's continuations of the validation prompts, judged by an n-gram model of the training text"""
    data, result, kind = trained(run)
    return score_generation(run, data, result.get("val_generated"), data.info["generation_val"],
                            "validation generation perplexity", f"judge_{kind}")
