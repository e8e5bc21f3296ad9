"""Xu et al.'s models (models/xu.py): the learned and the hard alignment, the encoders, and a
forward/backward pass of every variant."""
import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from features.word_alignment import overlap_weights
from models import create_model
from models.xu import AlignmentAttention, BiLSTM, hard_alignment_weights

SHAPES = {"speech": (-1, 34), "text": (-1, 50)}
MODELS = {"xu_attention_align": ("speech", "text"), "xu_hard_align": ("speech", "text"),
          "xu_concat": ("speech", "text"), "xu_speech": ("speech",), "xu_text": ("text",)}


def batch(lengths_frames=(120, 90, 60), lengths_words=(6, 4, 3), hop=0.01):
    """Utterances of frames at `hop` and words of 0.2 s each from t=0, padded (B, T=1, ...)."""
    torch.manual_seed(0)
    n, frames, words = len(lengths_frames), max(lengths_frames), max(lengths_words)
    speech_mask = torch.arange(frames)[None] < torch.tensor(lengths_frames)[:, None]
    text_mask = torch.arange(words)[None] < torch.tensor(lengths_words)[:, None]
    frame_times = (torch.arange(frames) * hop + hop / 2).expand(n, frames)
    starts = torch.arange(words) * 0.2
    word_times = torch.stack([starts, starts + 0.2], -1).expand(n, words, 2)
    inputs = {"speech": torch.randn(n, 1, frames, 34), "text": torch.randn(n, 1, words, 50),
              "speech.times": frame_times[:, None].clone(), "text.times": word_times[:, None].clone()}
    return inputs, {"speech": speech_mask[:, None], "text": text_mask[:, None]}


@pytest.mark.parametrize("score", ["additive", "dot"])
def test_attention_over_frames_sums_to_one_per_word_and_ignores_padded_frames(score):
    torch.manual_seed(1)
    attention = AlignmentAttention(200, 5, score)
    speech, text = torch.randn(2, 50, 200), torch.randn(2, 7, 200)
    mask = torch.arange(50)[None] < torch.tensor([50, 30])[:, None]
    alpha = attention.weights(speech, mask, text)
    assert alpha.shape == (2, 5, 7, 50)
    assert torch.allclose(alpha.sum(-1), torch.ones(2, 5, 7))
    assert alpha[1, :, :, 30:].abs().max() == 0 and (alpha[1, :, :, :30] > 0).all()
    # whatever the padded frames hold, the aligned vectors stay the same
    noisy = speech.clone()
    noisy[1, 30:] = 1e3
    assert torch.allclose(attention(speech, mask, text), attention(noisy, mask, text), atol=1e-6)


def test_hard_alignment_takes_exactly_the_frames_inside_each_word():
    inputs, masks = batch()
    weights = hard_alignment_weights(inputs["speech.times"][:, 0], masks["speech"][:, 0], inputs["text.times"][:, 0])
    assert weights.shape == (3, 6, 120)
    # word j is [0.2 j, 0.2 (j + 1)): the 20 frames of 10 ms inside it, each 1/20; no other frame
    for j in range(6):
        expected = torch.zeros(120)
        expected[20 * j:20 * (j + 1)] = 1 / 20
        assert torch.allclose(weights[0, j], expected, atol=1e-6)
    # utterance 2 has 60 frames: word 3 (0.6-0.8 s) lies after them and gets nothing
    assert weights[2, 3].sum() == 0 and torch.allclose(weights[2, :3].sum(-1), torch.ones(3))


def test_hard_alignment_weights_are_the_word_alignment_overlaps_normalised():
    """Off the frame grid a straddling frame counts by its overlap: the same weights as the
    numpy word alignment of Williams et al.'s features."""
    centres = np.arange(100) * 0.01 + 0.005
    words = np.array([[0.013, 0.131], [0.2, 0.457], [0.5, 0.5004]])
    expected = overlap_weights(centres, 0.01, words).toarray()
    expected /= expected.sum(1, keepdims=True)
    got = hard_alignment_weights(torch.tensor(centres, dtype=torch.float64)[None], torch.ones(1, 100, dtype=torch.bool),
                                 torch.tensor(words)[None])[0]
    assert np.allclose(got.numpy(), expected, atol=1e-9)


def test_bilstm_matches_pytorch_packed_bidirectional_lstm_and_zeroes_padding():
    torch.manual_seed(2)
    ours = BiLSTM(8, 5)
    reference = torch.nn.LSTM(8, 5, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(reference, name).copy_(getattr(ours.forward_rnn, name))
            getattr(reference, f"{name}_reverse").copy_(getattr(ours.backward_rnn, name))
    x, lengths = torch.randn(3, 12, 8), torch.tensor([12, 7, 1])
    mask = torch.arange(12)[None] < lengths[:, None]
    packed, _ = reference(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    expected, _ = pad_packed_sequence(packed, batch_first=True, total_length=12)
    assert torch.allclose(ours(x, mask), expected, atol=1e-6)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_backward_and_padding_changes_nothing(name):
    inputs, masks = batch()
    model = create_model(name, {k: SHAPES[k] for k in MODELS[name]}, 4, dropout=0.0).eval()
    out = model(inputs, masks)
    assert out.shape == (3, 1, 4) and (out >= 0).all()  # eq. 14: ReLU on the class scores
    out.sum().backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    noisy = {k: v.clone() for k, v in inputs.items()}
    noisy["speech"][1, 0, 90:] = 50.0  # padded frames and words
    noisy["text"][2, 0, 3:] = 50.0
    assert torch.allclose(model(noisy, masks), out, atol=1e-5)


def test_a_model_refuses_inputs_it_does_not_read():
    with pytest.raises(ValueError, match="named inputs"):
        create_model("xu_speech", SHAPES, 4)
    with pytest.raises(ValueError, match="heads"):
        create_model("xu_attention_align", SHAPES, 4, hidden=100, heads=3)


def test_hard_alignment_without_word_times_names_what_is_missing():
    # a word matrix per unit (glove_sentences_asr, recognised words) carries no times
    inputs, masks = batch()
    del inputs["text.times"]
    model = create_model("xu_hard_align", SHAPES, 4, dropout=0.0)
    with pytest.raises(ValueError, match=r"xu_hard_align needs the times.*'text\.times'.*glove_sentences_asr"):
        model(inputs, masks)
