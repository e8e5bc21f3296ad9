"""Tzirakis et al. (models/tzirakis.py) and the raw inputs under it: the audio network's time
reduction by formula, output shapes, the text and visual networks' masks, the visual network's
attentional pooling and mean over crops, raw samples sliced lazily per unit, the sentence
spoken at each step, and the offline contextual word encoder."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from features import contextual_words, waveform
from features.session_words import sentence_at, word_sentences
from models import create_model, list_models
from models.tzirakis import (AUDIO_BLOCKS, AudioNetwork, TextNetwork, TzirakisConfig, VisualNetwork, audio_positions,
                             step_presence)
from pipeline.inner_sequences import load_inner
from pipeline.sequences import SessionSequence, fit_normaliser, normalise
from pipeline.sessions import Session


@pytest.mark.parametrize("samples", [557, 1600, 2205, 8000])
def test_audio_network_reduces_time_by_250_as_the_formula_says(samples):
    assert np.prod([pool for _, _, pool in AUDIO_BLOCKS]) == 250  # 10 x 5 x 5
    expected = ((((samples - 7) // 10 - 5) // 5) - 5) // 5  # three valid convolutions (8, 6, 6), three poolings
    assert audio_positions(samples) == expected
    network = AudioNetwork(0.5, 512).eval()
    assert network.blocks(torch.zeros(2, 1, samples)).shape == (2, 250, expected)
    assert samples / 250 - 3 < expected <= samples / 250  # one position per 250 samples, less the edges
    out = network(torch.randn(2, 3, samples, 1), torch.ones(2, 3, samples, dtype=torch.bool))
    assert out.shape == (2, 3, 250)


def test_audio_network_refuses_steps_too_short_for_its_blocks():
    with pytest.raises(ValueError, match="at least 557 samples per step"):
        AudioNetwork(0.5, 512)(torch.zeros(1, 2, 556, 1), torch.ones(1, 2, 556, dtype=torch.bool))


def test_audio_network_evaluates_long_sessions_in_pieces_with_the_same_result():
    torch.manual_seed(0)
    network = AudioNetwork(0.5, steps_at_once=7).eval()
    x, mask = torch.randn(1, 20, 1600, 1), torch.ones(1, 20, 1600, dtype=torch.bool)
    whole = AudioNetwork(0.5, steps_at_once=512).eval()
    whole.load_state_dict(network.state_dict())
    torch.testing.assert_close(network(x, mask), whole(x, mask))


def words_and_mask(lengths: list[list[int]], length: int = 6, dim: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.tensor([[[k < n for k in range(length)] for n in row] for row in lengths])
    return torch.randn(len(lengths), len(lengths[0]), length, dim, generator=g), mask


def test_text_network_ignores_padded_words_and_gives_zeros_without_words():
    torch.manual_seed(0)
    network = TextNetwork(8, TzirakisConfig()).eval()
    words, mask = words_and_mask([[3, 0, 6], [1, 2, 0]])
    out = network(words, mask)
    assert out.shape == (2, 3, network.out_dim) == (2, 3, 4 * 2 * 64)
    assert torch.all(out[0, 1] == 0) and torch.all(out[1, 2] == 0)  # no sentence spoken at the step
    changed = words.clone()
    changed[~mask] = 100.0  # padding values must not matter
    torch.testing.assert_close(network(changed, mask), out)
    # a step's output depends on its own words only: its sentence alone gives the same vector
    alone = network(words[:1, :1], mask[:1, :1])
    torch.testing.assert_close(alone[0, 0], out[0, 0])
    attention = network.last_attention  # (steps with words, P, L): sums to one over the real words
    torch.testing.assert_close(attention.sum(-1), torch.ones_like(attention.sum(-1)))


def test_text_network_encodes_a_run_of_steps_in_one_sentence_once_with_the_same_result():
    torch.manual_seed(0)
    network = TextNetwork(8, TzirakisConfig()).eval()
    words, mask = words_and_mask([[4, 4, 4, 2]])
    words[0, 1:3], mask[0, 1:3] = words[0, 0], mask[0, 0]  # steps 0-2 read one sentence
    out = network(words, mask)
    assert network.last_attention.shape[0] == 2  # two sentences encoded, not four steps
    for step in range(4):
        torch.testing.assert_close(out[0, step], network(words[:, step:step + 1], mask[:, step:step + 1])[0, 0])


def test_text_network_n_gram_maps_read_the_next_words_and_padding_after_the_last():
    network = TextNetwork(2, TzirakisConfig(ngrams=(2,)))
    with torch.no_grad():
        conv = network.ngrams[0]
        conv.weight.zero_()
        conv.weight[0, 0] = torch.tensor([1.0, 2.0])  # first input channel: w[l] + 2 w[l + 1]
        conv.bias.zero_()
        x = torch.tensor([[[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]])  # (N=1, L=3, D=2)
        maps = network.n_gram_maps(x)[0, :, 0]
    torch.testing.assert_close(maps, torch.tanh(torch.tensor([1 + 2 * 2.0, 2 + 2 * 3.0, 3 + 0.0])))


def crops_and_mask(counts: list[list[int]], width: int = 2, size: int = 32, seed: int = 0):
    """(B, T, width, size, size, 3) crops in 0-255 and their mask: `counts[b][t]` real crops at each step."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.tensor([[[k < n for k in range(width)] for n in row] for row in counts])
    crops = 255 * torch.rand(len(counts), len(counts[0]), width, size, size, 3, generator=g)
    return crops * mask[..., None, None, None], mask  # padding is zeros, as pipeline/inner_sequences.py pads


@pytest.mark.parametrize("name", [m for m in list_models() if m.startswith("tzirakis_") and m != "tzirakis_multimodal"])
def test_every_unimodal_tzirakis_variant_trains_forward_and_backward(name):
    torch.manual_seed(0)
    words, word_mask = words_and_mask([[2, 0, 3, 1]] * 2)
    crops, crop_mask = crops_and_mask([[2, 0, 1, 1]] * 2)
    inputs = {"tzirakis_audio": ({"audio": (-1, 1)}, {"audio": torch.randn(2, 4, 800, 1)},
                                 {"audio": torch.ones(2, 4, 800, dtype=torch.bool)}),
              "tzirakis_text": ({"text": (-1, 8)}, {"text": words}, {"text": word_mask}),
              "tzirakis_visual": ({"video": (-1, 32, 32, 3)}, {"video": crops}, {"video": crop_mask})}
    shapes, x, masks = inputs[name]
    model = create_model(name, shapes, 2, **({"visual_backbone": "small"} if name == "tzirakis_visual" else {}))
    out = model(x, masks)
    assert out.shape == (2, 4, 2)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_tzirakis_models_refuse_inputs_of_another_granularity():
    with pytest.raises(ValueError, match="sequence inside each step"):
        create_model("tzirakis_audio", {"audio": (88,)}, 2)
    with pytest.raises(ValueError, match="reads one named input, `text`"):
        create_model("tzirakis_text", {"audio": (-1, 1)}, 2)
    with pytest.raises(ValueError, match="sequence inside each step"):
        create_model("tzirakis_visual", {"video": (-1, 8)}, 2, visual_backbone="small")  # not images
    with pytest.raises(ValueError, match="RGB crops"):
        create_model("tzirakis_multimodal", {"video": (-1, 32, 32, 1)}, 2, visual_backbone="small")
    with pytest.raises(ValueError, match="visual_backbone must be one of efficientnet_lite0, small"):
        create_model("tzirakis_visual", {"video": (-1, 32, 32, 3)}, 2, visual_backbone="hrnet")


def test_visual_network_gives_a_vector_per_step_from_attention_over_the_positions():
    torch.manual_seed(0)
    network = VisualNetwork("small", 256).eval()
    crops, mask = crops_and_mask([[2, 1, 0], [1, 2, 2]], size=96)
    out = network(crops, mask)
    assert out.shape == (2, 3, network.out_dim) == (2, 3, 128)
    weights = network.last_attention  # one row per real crop, one weight per position of the 6 x 6 map
    assert weights.shape == (int(mask.sum()), 96 // 16 * 96 // 16) == (8, 36)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(8))
    assert (weights > 0).all() and not torch.allclose(weights, torch.full_like(weights, 1 / 36))  # learnt, not uniform
    # independent: the pooled vector is the trunk's map weighted by a softmax of the 1 x 1 scores
    image = crops[0, 0, :1]
    with torch.no_grad():
        maps = network.trunk(((image.permute(0, 3, 1, 2) / 255 - torch.tensor([0.485, 0.456, 0.406])[:, None, None])
                              / torch.tensor([0.229, 0.224, 0.225])[:, None, None]))  # (1, 128, 6, 6)
        scores = (maps * network.pool.score.weight[0, :, 0, 0][:, None, None]).sum(1) + network.pool.score.bias
        by_hand = (maps * torch.softmax(scores.flatten(), 0).reshape(1, 6, 6)).sum(dim=(2, 3))
    torch.testing.assert_close(network.encode(image), by_hand, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("training", [False, True])
def test_visual_network_ignores_masked_crops_and_a_step_without_one_is_missing(training):
    """Padding never reaches the trunk (in training neither its batch-norm statistics): other pixel
    values under the mask give the same output; a step without a crop gives zeros and counts as
    missing for the fusions."""
    torch.manual_seed(0)
    network = VisualNetwork("small", 256).train(training)
    crops, mask = crops_and_mask([[2, 0, 1], [1, 2, 0]])
    changed = crops.clone()
    changed[~mask] = 255 * torch.rand_like(changed[~mask])
    out = network(crops, mask)
    torch.testing.assert_close(network(changed, mask), out)
    assert torch.all(out[0, 1] == 0) and torch.all(out[1, 2] == 0)
    assert step_presence(mask).tolist() == [[True, False, True], [True, True, False]]


def test_a_steps_visual_vector_is_the_mean_of_its_crops_vectors():
    torch.manual_seed(0)
    network = VisualNetwork("small", crops_at_once=256).eval()
    crops, mask = crops_and_mask([[2, 1]])
    out = network(crops, mask)
    with torch.no_grad():
        first, second, alone = (network.encode(crops[0, t, k:k + 1])[0] for t, k in ((0, 0), (0, 1), (1, 0)))
    torch.testing.assert_close(out[0, 0], (first + second) / 2)
    torch.testing.assert_close(out[0, 1], alone)  # its padding crop does not count
    assert not torch.allclose(first, second)
    in_pieces = VisualNetwork("small", crops_at_once=1).eval()  # evaluation in pieces: the same vectors
    in_pieces.load_state_dict(network.state_dict())
    torch.testing.assert_close(in_pieces(crops, mask), out)


def test_gradients_reach_the_visual_trunk():
    torch.manual_seed(0)
    model = create_model("tzirakis_visual", {"video": (-1, 32, 32, 3)}, 2, visual_backbone="small")
    crops, mask = crops_and_mask([[2, 0, 1]] * 2)
    model({"video": crops}, {"video": mask}).pow(2).sum().backward()
    trunk = dict(model.features.trunk.named_parameters())
    assert trunk and all(p.grad is not None and p.grad.abs().sum() > 0 for p in trunk.values()), \
        [k for k, p in trunk.items() if p.grad is None or not p.grad.abs().sum()]
    assert model.features.pool.score.weight.grad.abs().sum() > 0


def test_efficientnet_lite0_visual_trunk_starts_from_the_packaged_imagenet_weights():
    """The trunk is a trainable copy of the feature extractor's (features/imagenet_cnn.py): its map
    averaged over the positions is what that extractor gives on the same normalised crops."""
    from features.imagenet_cnn import imagenet_normalise, load_network

    torch.manual_seed(0)
    network = VisualNetwork("efficientnet_lite0", 256).eval()
    crops, mask = crops_and_mask([[2]], size=96)
    out = network(crops, mask)
    assert out.shape == (1, 1, 1280) and network.last_attention.shape == (2, 9)  # a 3 x 3 map at 96 px
    extractor = load_network("efficientnet_lite0", None, "cpu")
    images = imagenet_normalise(crops[0, 0].permute(0, 3, 1, 2) / 255)
    with torch.no_grad():
        torch.testing.assert_close(network.trunk(images).mean(dim=(2, 3)), extractor(images), rtol=1e-4, atol=1e-4)
    assert all(p.requires_grad for p in network.trunk.parameters())
    assert not any(p is q for p in network.trunk.parameters() for q in extractor.parameters())  # its own copy


def test_waveform_levels_and_sample_ranges_follow_their_formulas():
    rate = 1000
    t = np.arange(2 * rate) / rate
    audio = np.where(t < 1, 0.5 * np.sin(2 * np.pi * 50 * t), 0.0).astype(np.float32)
    ranges = waveform.sample_ranges([0.0, 0.5, 1.2, 1.95], [0.5, 1.0, 1.7, 2.45], rate, len(audio))
    np.testing.assert_array_equal(ranges, [[0, 500], [500, 1000], [1200, 1700], [1950, 2000]])  # clipped at the end
    levels = waveform.window_levels(audio, ranges)[:, 0]
    np.testing.assert_allclose(levels[:2], 20 * np.log10(0.5 / np.sqrt(2)), atol=0.01)  # a sine's RMS: A / sqrt 2
    np.testing.assert_allclose(levels[2:], waveform.FLOOR_DB)


@pytest.fixture
def sample_stage(tmp_path, monkeypatch):
    """A waveform stage of two sessions (samples 0, 1, 2, ... at 100 Hz) and 0.1 s units."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "data/features/wave"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"extractor": "waveform", "config": {"sample_rate": 100}}))
    for sid, n in (("a", 50), ("b", 40)):
        np.save(folder / f"{sid}.samples.npy", np.arange(n, dtype=np.float32)[:, None])
    return folder


def test_raw_samples_are_sliced_per_unit_from_a_memory_map(sample_stage):
    units = pd.DataFrame({"start": [0.0, 0.1, 0.45], "end": [0.1, 0.2, 0.55]})
    inner = load_inner("wave", "sample", "a", units)
    assert isinstance(inner.values, np.memmap)  # never read whole
    values, mask, times = inner.padded()
    assert times is None and values.shape == (3, 10, 1)
    np.testing.assert_array_equal(values[0, :, 0], np.arange(10))
    np.testing.assert_array_equal(values[1, :, 0], np.arange(10, 20))
    np.testing.assert_array_equal(values[2, :5, 0], np.arange(45, 50))  # the session ends at 0.5 s
    np.testing.assert_array_equal(mask.sum(axis=1), [10, 10, 5])
    assert not values[2, 5:].any()


def test_raw_samples_are_standardised_with_one_train_mean_and_std_applied_per_batch(sample_stage):
    units = pd.DataFrame({"start": np.arange(0, 0.4, 0.1), "end": np.arange(0.1, 0.5, 0.1)})
    train = [SessionSequence(sid, split, units.start.to_numpy(), {"audio": load_inner("wave", "sample", sid, units)},
                             np.zeros((4, 1), np.float32)) for sid, split in (("a", "train"), ("b", "test"))]
    norm = fit_normaliser(train)
    covered = np.arange(40, dtype=np.float64)  # session a's samples inside its units (0-0.4 s)
    np.testing.assert_allclose(norm["audio"][0], [covered.mean()], rtol=1e-6)
    np.testing.assert_allclose(norm["audio"][1], [covered.std()], rtol=1e-6)
    normalise(train, norm)
    assert isinstance(train[1].x["audio"].values, np.memmap)  # still lazy
    values = train[1].x["audio"].padded()[0]
    np.testing.assert_allclose(values[1, :, 0], (np.arange(10, 20) - covered.mean()) / covered.std(), rtol=1e-5)


def segment_session(tmp_path, segments: list[tuple[float, float]] | None) -> Session:
    files = {}
    if segments is not None:
        pd.DataFrame(segments, columns=["start", "end"]).to_csv(tmp_path / "segments.csv", index=False)
        files["segments"] = "segments.csv"
    return Session("s1", "spk", "train", 10.0, files, tmp_path)


WORDS = pd.DataFrame({"word": ["so", "good", "to", "see", "you", "bye"], "start": [0.5, 0.8, 1.2, 2.6, 2.9, 6.0],
                      "end": [0.8, 1.1, 1.4, 2.9, 3.2, 6.4]})


def test_sentences_come_from_the_segments_else_from_pauses(tmp_path):
    times = WORDS[["start", "end"]].to_numpy()
    np.testing.assert_array_equal(word_sentences(segment_session(tmp_path, None), times), [0, 0, 0, 1, 1, 2])
    # the segments say "so good" and "to see you" are sentences; "bye" lies in none: a sentence of its own
    with_segments = segment_session(tmp_path, [(0.4, 1.15), (1.15, 3.3)])
    np.testing.assert_array_equal(word_sentences(with_segments, times), [0, 0, 1, 1, 1, 2])


def test_each_step_reads_the_sentence_spoken_at_its_centre(tmp_path):
    session = segment_session(tmp_path, None)
    centres = np.array([0.2, 0.55, 1.3, 2.0, 3.1, 6.2, 9.0])
    first, last = sentence_at(session, WORDS, centres)
    np.testing.assert_array_equal(np.stack([first, last], 1),
                                  [[0, 0], [0, 3], [0, 3], [3, 3], [3, 5], [5, 6], [6, 6]])  # empty between sentences


def test_unit_features_base_config_can_be_switched_off():
    from pipeline.features import feature_stage

    params = {"features": {"waveform": {"sample_rate": 16000, "workers": 1, "enabled": False}},
              "units": {"steps": {"kind": "window", "length_s": 0.1, "hop_s": 0.1, "label_shift_s": 0.0,
                                  "label_aggregation": "mean"}},
              "unit_features": {"waveform_steps": {"extractor": "waveform", "unit": "steps",
                                                   "config": {"enabled": True}}}}
    base, on_steps = feature_stage(params, "waveform"), feature_stage(params, "waveform_steps")
    assert not base.enabled and on_steps.enabled
    assert on_steps.config == base.config == {"sample_rate": 16000, "workers": 1}  # `enabled` is no extractor param


@pytest.fixture(scope="module")
def encoder_cfg():
    return {"model": "packaged", "max_tokens": 16, "batch_size": 4, "device": "cpu"}


def test_contextual_words_are_each_words_tokens_in_its_sentence(encoder_cfg):
    tokenizer, model, _ = contextual_words.load_encoder(encoder_cfg)
    sentences = [["i", "loved", "the", "film"], ["i", "hated", "the", "unbelievably", "film"]]
    vectors = contextual_words.encode_words(sentences, encoder_cfg)
    assert vectors.shape == (9, 384)
    # independent: the model run by hand on the second sentence alone
    tokens = tokenizer(sentences[1], is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        states = model(**tokens).last_hidden_state[0].numpy()
    ids = np.array([-1 if w is None else w for w in tokens.word_ids(0)])
    assert (ids == 3).sum() > 1  # "unbelievably" is several sub-word tokens: its vector is their mean
    for word in range(5):
        np.testing.assert_allclose(vectors[4 + word], states[ids == word].mean(axis=0), atol=1e-4)
    assert not np.allclose(vectors[0], vectors[4], atol=1e-3)  # "i" differs with its sentence


def test_long_sentences_are_encoded_in_pieces_that_fit(encoder_cfg):
    tokenizer = contextual_words.load_encoder(encoder_cfg)[0]
    words = ["the"] * 30
    spans = contextual_words.pieces(words, tokenizer, 16)
    assert spans == [(0, 14), (14, 28), (28, 30)]  # 14 words + 2 special tokens = 16


def test_window_means_average_each_windows_words_and_mask_the_empty():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    means, mask = contextual_words.window_means(vectors, [0, 1, 2], [2, 4, 2])
    np.testing.assert_allclose(means[0], vectors[:2].mean(0))
    np.testing.assert_allclose(means[1], vectors[1:].mean(0))
    np.testing.assert_array_equal(mask, [True, True, False])
    assert not means[2].any()


FUSION_NAMES = ("concat", "hierarchical_attention", "self_attention", "residual_self_attention",
                "cross_modal_attention")


def two_modalities(b: int = 2, t: int = 5, seed: int = 0):
    """Audio samples and text words for `t` steps; the text of steps 1 and 3 is missing."""
    g = torch.Generator().manual_seed(seed)
    words, word_mask = words_and_mask([[2, 0, 3, 0, 1]] * b, seed=seed)
    return ({"audio": torch.randn(b, t, 700, 1, generator=g), "text": words},
            {"audio": torch.ones(b, t, 700, dtype=torch.bool), "text": word_mask})


@pytest.mark.parametrize("fusion", FUSION_NAMES)
def test_every_fusion_trains_forward_and_backward(fusion):
    torch.manual_seed(0)
    model = create_model("tzirakis_multimodal", {"audio": (-1, 1), "text": (-1, 8)}, 2, fusion=fusion)
    x, masks = two_modalities()
    out = model(x, masks)
    assert out.shape == (2, 5, 2) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("fusion", [f for f in FUSION_NAMES if f != "concat"])
def test_softmax_weighted_fusions_ignore_a_missing_modality(fusion):
    """At a step without text, the fused vector is what audio alone gives, whatever the text
    network would output there; the attention weights give text nothing."""
    torch.manual_seed(0)
    model = create_model("tzirakis_multimodal", {"audio": (-1, 1), "text": (-1, 8)}, 2, fusion=fusion).eval()
    x, masks = two_modalities()
    features = {m: model.networks[m](x[m], masks[m]) for m in ("audio", "text")}
    present = {"audio": torch.ones(2, 5, dtype=torch.bool), "text": masks["text"].any(-1)}
    fused = model.fusion(features, present)
    noisy = dict(features, text=features["text"] + 50 * torch.randn_like(features["text"]) * ~present["text"][..., None])
    fused_noisy = model.fusion(noisy, present)
    missing = ~present["text"]
    if fusion == "cross_modal_attention":  # every step attends over the sequence: compare whole outputs
        torch.testing.assert_close(fused_noisy, fused)
    else:
        torch.testing.assert_close(fused_noisy[missing], fused[missing])
    if fusion == "hierarchical_attention":
        weights = model.fusion.pair_attention[0].last_weights  # (B, T, 2): audio, text
        assert torch.all(weights[missing][:, 1] == 0) and torch.allclose(weights[missing][:, 0], torch.ones(1))


def test_init_from_copies_exactly_the_unimodal_feature_networks(tmp_path):
    from training.init_from import initialise_networks

    torch.manual_seed(1)
    shapes = {"audio": (-1, 1), "text": (-1, 8), "video": (-1, 32, 32, 3)}
    sources = {m: create_model(f"tzirakis_{name}", {m: shapes[m]}, 2, visual_backbone="small")
               for m, name in (("audio", "audio"), ("text", "text"), ("video", "visual"))}
    paths = {}
    for name, model in sources.items():
        paths[name] = tmp_path / f"{name}.pt"
        torch.save({"state_dict": model.state_dict(), "meta": json.dumps({"model": f"tzirakis_{name}"})}, paths[name])
    torch.manual_seed(2)
    fused = create_model("tzirakis_multimodal", shapes, 2, visual_backbone="small")
    before = {k: v.clone() for k, v in fused.state_dict().items()}
    copied = initialise_networks(fused, paths)
    after = fused.state_dict()
    assert any(k.startswith("networks.video.trunk.") and "running_mean" in k for k in after)  # batch norm's too
    for name, source in sources.items():
        expected = {k.removeprefix("features."): v for k, v in source.state_dict().items() if k.startswith("features.")}
        assert copied[name] == len(expected)
        for k, v in expected.items():
            torch.testing.assert_close(after[f"networks.{name}.{k}"], v)
    untouched = [k for k in after if not k.startswith("networks.")]
    assert untouched and all(torch.equal(after[k], before[k]) for k in untouched)  # fusion and LSTM: fresh
    with pytest.raises(ValueError, match="network 'video'"):
        initialise_networks(create_model("tzirakis_multimodal", {"audio": (-1, 1)}, 2), {"video": paths["video"]})
    with pytest.raises(ValueError, match="does not match"):
        initialise_networks(fused, {"audio": paths["text"]})
    with pytest.raises(ValueError, match="does not match"):  # a visual run trained on another backbone
        initialise_networks(create_model("tzirakis_multimodal", {"video": shapes["video"]}, 2,
                                         visual_backbone="efficientnet_lite0"), {"video": paths["video"]})


def test_frozen_networks_stay_as_copied_while_the_fusion_and_lstm_learn():
    """freeze_networks: a training step (Adam over every parameter, as the trainer) moves the fusion
    and the LSTM and leaves each feature network's weights and batch-norm statistics as they were;
    in training mode the networks stay in eval mode (no dropout: their output is deterministic)."""
    from pipeline.params_check import frozen_network_problems

    torch.manual_seed(0)
    shapes = {"audio": (-1, 1), "text": (-1, 8), "video": (-1, 32, 32, 3)}
    x, masks = two_modalities()
    x["video"], masks["video"] = crops_and_mask([[1, 2, 0, 2, 1]] * 2)
    model = create_model("tzirakis_multimodal", shapes, 2, visual_backbone="small", fusion="concat",
                         freeze_networks=True).train()
    assert model.frozen_networks == ("audio", "text", "video")
    assert model.training and not any(m.training for m in model.networks.modules())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    model(x, masks).sum().backward()
    optimiser.step()
    after = model.state_dict()
    frozen = [k for k in after if k.startswith("networks.")]
    assert any("running_mean" in k for k in frozen) and all(torch.equal(after[k], before[k]) for k in frozen)
    assert all(p.grad is None for p in model.networks.parameters())
    assert any(not torch.equal(after[k], before[k]) for k in after if k.startswith("fusion.") or k.startswith("recurrent."))
    torch.testing.assert_close(model.networks["audio"](x["audio"], masks["audio"]),
                               model.networks["audio"](x["audio"], masks["audio"]))  # dropout 0.5 is off
    assert not create_model("tzirakis_multimodal", shapes, 2, visual_backbone="small").frozen_networks
    with pytest.raises(ValueError, match="tzirakis_multimodal's"):
        create_model("tzirakis_audio", {"audio": (-1, 1)}, 2, freeze_networks=True)
    with pytest.raises(ValueError, match="true or false"):
        create_model("tzirakis_multimodal", shapes, 2, visual_backbone="small", freeze_networks="yes")
    spec = {"features": {m: {} for m in shapes}, "freeze_networks": True, "init_from": {"audio": "a", "text": "t"}}
    assert frozen_network_problems("tzirakis_multimodal", spec) == [
        "models.tzirakis_multimodal.freeze_networks = true: init_from names no run for the network(s) video, "
        "which would stay random"]
    assert frozen_network_problems("tzirakis_multimodal", {**spec, "init_from": dict.fromkeys(shapes, "r")}) == []
    assert frozen_network_problems("tzirakis_multimodal", {**spec, "freeze_networks": False}) == []


@pytest.mark.parametrize("inputs", [("video",), ("audio", "video"), ("audio", "text", "video")])
def test_the_multimodal_network_reads_video_with_any_other_inputs(inputs):
    torch.manual_seed(0)
    shapes = {"audio": (-1, 1), "text": (-1, 8), "video": (-1, 32, 32, 3)}
    x, masks = two_modalities()
    x["video"], masks["video"] = crops_and_mask([[1, 2, 0, 2, 1]] * 2)  # no face at step 2
    model = create_model("tzirakis_multimodal", {m: shapes[m] for m in inputs}, 2, visual_backbone="small")
    out = model({m: x[m] for m in inputs}, {m: masks[m] for m in inputs})
    assert out.shape == (2, 5, 2) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    if "audio" in inputs:  # the audio-video pair's attention gives the step without a face nothing
        pair = model.fusion.pairs.index((0, len(inputs) - 1))  # members sorted: audio first, video last
        weights = model.fusion.pair_attention[pair].last_weights  # (B, T, 2)
        assert torch.all(weights[:, 2, 1] == 0) and torch.all(weights[:, [0, 1, 3, 4], 1] > 0)


def test_init_from_must_name_pretrain_runs_that_serve_the_model():
    from pipeline.params_check import init_from_problems

    params = {"pretrain": {"a": {"model": "tzirakis_audio", "for": ["tzirakis_multimodal"]},
                           "t": {"model": "tzirakis_text", "for": []}}}
    assert init_from_problems(params, "tzirakis_multimodal", {"audio": "a"}) == []
    assert "not a `pretrain` run" in init_from_problems(params, "tzirakis_multimodal", {"audio": "x"})[0]
    assert "pretrain.t.for must list tzirakis_multimodal" in init_from_problems(params, "tzirakis_multimodal",
                                                                               {"text": "t"})[0]


def test_report_chooses_the_fusion_on_dev_and_compares_it_with_each_network_alone(tmp_path, monkeypatch):
    from pipeline import tzirakis_report
    from pipeline.suite_results import over_seeds

    def run(arousal, valence, dev):
        return over_seeds({"7": {"arousal": {"ccc": arousal}, "valence": {"ccc": valence}, "dev_score": dev}})

    suite = {"runs": {"audio": run(0.45, 0.1, 0.3), "text": run(0.2, 0.5, 0.35), "concat": run(0.5, 0.5, 0.4),
                      "hierarchical_attention": run(0.3, 0.3, 0.6),  # the dev choice is the worse one on test
                      "hierarchical_attention_no_video": run(0.2, 0.4, 0.7),  # an ablation: a row, never chosen
                      "concat_epochs30": run(0.5, 0.4, 0.9)}}  # trained longer: a row and a check, never chosen
    path = tmp_path / "tzirakis.json"
    path.write_text(json.dumps(suite))
    monkeypatch.setattr(tzirakis_report, "SUITE", path)
    section = "\n".join(tzirakis_report.tzirakis_section({}))
    assert "Chosen on dev: **hierarchical_attention**" in section
    assert "its mean test CCC over arousal and valence: 0.300" in section
    assert "The audio network alone: 0.275: the fused model is above it" in section
    assert "The text network alone: 0.350: the fused model is NOT above it" in section
    assert "arousal CCC: 0.450 (at least 0.4)" in section
    assert "| fusion: concat | 1 | 0.500 | 0.500 | 0.400 | 0.698 | 0.737 | dev, Table 6 |" in section
    assert "| visual alone | - | - | - | - |" in section  # not built: a dash, never a number
    assert "| hierarchical_attention_no_video | 1 | 0.200 | 0.400 | 0.700 | - | - | - |" in section
    assert "- concat_epochs30: mean test CCC 0.450 over 1 seed(s): above the strongest network alone (text, 0.350)" \
        in section
    assert "hierarchical_attention_no_video: mean test" not in section  # without video: no such check


@pytest.mark.parametrize("fusion", FUSION_NAMES)
def test_the_fusion_picture_reads_one_weight_per_member_and_step(fusion):
    from pipeline.tzirakis_figures import fusion_weights, text_network

    model = create_model("tzirakis_multimodal", {"audio": (-1, 1), "text": (-1, 8)}, 2, fusion=fusion).eval()
    x, masks = two_modalities(b=1)
    with torch.no_grad():
        model(x, masks)
    assert text_network(model) is model.networks["text"]
    found = fusion_weights(model)
    if fusion == "concat":
        assert found is None  # nothing to draw
        return
    weights, names = found
    assert weights.shape == (5, len(names)) and names == ["audio", "text"]
    np.testing.assert_allclose(weights.sum(axis=1), 1, atol=1e-5)
