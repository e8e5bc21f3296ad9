"""Published numbers of the papers, for the report beside ours (pipeline/report.py).

Each comes from the paper's own (real) corpus: a reference point, not a target the synthetic
corpus can confirm.
"""
from pipeline.model_inputs import feature_stages

# EmoNet (SENDv1): test-set valence CCC, keyed by model; None where the paper gives it only in a figure.
PAPER_RESULTS = {
    "emonet_transformer": {"paper": "EmoNet, SENDv1", "target": "valence", "ccc": 0.47, "human": 0.46,
                           "note": "test CCC (MSE-tuned); 0.49 on the evaluation set"},
    "emonet_lstm": {"paper": "EmoNet, SENDv1", "target": "valence", "ccc": None, "human": 0.46,
                    "note": "reported only in a figure"},
    "emonet_ar_lstm": {"paper": "EmoNet, SENDv1", "target": "valence", "ccc": None, "human": 0.46,
                       "note": "reported only in a figure"},
    "emonet_ed_lstm": {"paper": "EmoNet, SENDv1", "target": "valence", "ccc": None, "human": 0.46,
                       "note": "reported only in a figure"},
}

# Williams et al. (CMU-MOSEI), Tables 2-4: overall test MAE by (network, modalities); A audio, V video, T text.
WILLIAMS_MAE = {
    ("lstm", "A"): 0.150, ("blstm", "A"): 0.150, ("cnn", "A"): 0.146,
    ("lstm", "V"): 0.146, ("blstm", "V"): 0.147, ("cnn", "V"): 0.149,
    ("lstm", "T"): 0.156, ("blstm", "T"): 0.157, ("cnn", "T"): 0.158,
    ("lstm", "A+V"): 0.137, ("blstm", "A+V"): 0.135, ("cnn", "A+V"): 0.138,
    ("lstm", "A+T"): 0.140, ("blstm", "A+T"): 0.142, ("cnn", "A+T"): 0.146,
    ("lstm", "V+T"): 0.149, ("blstm", "V+T"): 0.145, ("cnn", "V+T"): 0.149,  # "Text+Video"
    ("lstm", "A+V+T"): 0.133, ("blstm", "A+V+T"): 0.132, ("cnn", "A+V+T"): 0.134,
}
WILLIAMS_RANDOM_MAE = 0.60  # Table 1 / 5.1: "better than an overall MAE of 0.60 is better than chance"
WILLIAMS_MODALITY = {"egemaps_lld": "A", "mfcc": "A", "face": "V", "glove": "T"}  # by feature stage


def modalities(features: list | dict) -> str:
    """A Williams run's modalities in the order A, V, T, e.g. "A+V+T", from its feature stages."""
    used = {WILLIAMS_MODALITY.get(s, "?") for s in feature_stages(features)}
    return "+".join(m for m in ("A", "V", "T", "?") if m in used)

# Xu et al. (IEMOCAP), Tables 1-2: test (WA, UA) in %, by model and text source (speech-only reads no text).
XU_WA_UA = {
    "xu_speech": {"oracle": (63.4, 57.4), "asr": (63.4, 57.4)},
    "xu_text": {"oracle": (63.3, 57.8), "asr": (60.3, 54.8)},
    "xu_concat": {"oracle": (71.0, 67.7), "asr": (68.1, 66.0)},
    "xu_hard_align": {"oracle": (71.5, 68.6)},
    "xu_attention_align": {"oracle": (72.5, 70.9), "asr": (70.4, 69.5)},
}
XU_METHOD = {"xu_speech": "Speech-only LSTM+Attn", "xu_text": "Text-only LSTM+Attn", "xu_concat": "Concat",
             "xu_hard_align": "Hard alignment", "xu_attention_align": "Proposed (learned alignment)"}
