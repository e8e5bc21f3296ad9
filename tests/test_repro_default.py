"""The default-repro benchmark's bookkeeping: which output lines it stamps and when, how a stage's
time follows from the stamps, and which paper a stage's time counts for."""
import sys

import pytest

from benchmarks.measure import run_measured
from benchmarks.repro_default import RUNNING, paper_of, stage_seconds
from tests.dvc_project import PARAMS


def test_the_running_stage_lines_are_stamped_in_order_and_nothing_else():
    script = ("print(\"Running stage 'align':\"); print('> python -m pipeline.align'); "
              "print(\"Stage 'corpus' didn't change, skipping\"); print(\"Running stage 'features@egemaps':\")")
    result = run_measured([sys.executable, "-c", script], ".", stamp=RUNNING)
    assert result["returncode"] == 0
    assert [stage for _, stage in result["stamped"]] == ["align", "features@egemaps"]
    assert result["stamped"][0][0] <= result["stamped"][1][0] <= result["seconds"]


def test_a_line_written_in_pieces_is_stamped_once_whole_and_later_lines_later():
    # the first stage line arrives in two writes, split inside the line and inside a two-byte
    # character; the second one a second later; the last has no newline
    script = ("import sys, time; out = sys.stdout.buffer\n"
              "out.write(b\"Running st\"); out.flush(); time.sleep(0.3)\n"
              "out.write(b\"age 'caf\\xc3\"); out.flush(); time.sleep(0.3)\n"
              "out.write(b\"\\xa9':\\n\"); out.flush(); time.sleep(1.0)\n"
              "out.write(b\"Running stage 'report':\"); out.flush()\n")
    result = run_measured([sys.executable, "-c", script], ".", poll_s=0.05, stamp=RUNNING)
    assert result["returncode"] == 0
    assert [stage for _, stage in result["stamped"]] == ["café", "report"]
    assert result["stamped"][0][0] < result["stamped"][1][0]


def test_a_stage_lasts_until_the_next_one_starts_and_the_last_until_the_end():
    assert stage_seconds([(1.0, "a"), (4.0, "b"), (4.5, "c")], 10.0) == {"a": 3.0, "b": 0.5, "c": 5.5}
    assert stage_seconds([], 3.0) == {}


@pytest.mark.parametrize("stage, group", [
    ("benchmark@emonet_transformer_ccc", "EmoNet"), ("story", "EmoNet"),
    ("benchmark@emonet_lstm_sentences_class", "EmoNet"),
    ("benchmark@williams_blstm_trimodal", "Williams et al."), ("benchmark@xu_attention_align", "Xu et al."),
    ("pretrain@tzirakis_audio_unimodal", "Tzirakis et al."), ("benchmark@svr_windows", "baselines and examples"),
    ("features@egemaps", "feature and unit stages (shared)"), ("units@raju", "feature and unit stages (shared)"),
    ("align", "corpus, alignment, checks, report"), ("report", "corpus, alignment, checks, report")])
def test_each_stage_counts_for_the_paper_of_its_model(stage, group):
    assert paper_of(stage, PARAMS) == group


@pytest.mark.parametrize("stage", ["train", "evaluate"])
def test_train_and_evaluate_count_for_the_model_params_name(stage):
    assert paper_of(stage, {**PARAMS, "model": "raju_aed"}) == "Raju et al."
