"""`harness score-reports`: the input formats, id matching, malformed inputs, the output schema, --compare."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.score_reports import detect_modality

runner = CliRunner()
REFS = {"s1": "The heart is normal in size. The lungs are clear. No pleural effusion.",
        "s2": "Moderate right pleural effusion. The heart size is normal.",
        "s3": "Cardiomegaly. No pneumothorax. Left lower lobe consolidation.",
        "s4": "The lungs are clear. No acute cardiopulmonary abnormality."}
PREDS = {"s1": "The heart is normal. The lungs are clear.",
         "s2": "Small right pleural effusion. Heart size is normal.",
         "s3": "No pneumothorax. The heart is enlarged.",
         "s4": "The lungs are clear. No pleural effusion or pneumothorax."}
CT_REFS = {"c1": "A 25 mm hypodense mass in the right lobe of the liver. The spleen is normal.",
           "c2": "The kidneys are normal. No focal lesion in the pancreas."}
FAST = ["--bootstrap", "20", "--metrics", "coco_bleu,coco_rouge_l,finding_f1,chexpert_f1"]


def _run(*args):
    return runner.invoke(app, ["score-reports", *map(str, args)])


def _json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def _metric(out: Path, name: str) -> dict:
    return json.loads((out / "results.json").read_text())["metrics"][name]


def _write_formats(tmp: Path, data: dict, stem: str) -> dict[str, tuple[Path, list[str]]]:
    """The same reports as JSON {id: text}, JSON {id: [text]}, JSONL, CSV and a text file; with the flags each
    needs."""
    (tmp / f"{stem}.jsonl").write_text("".join(json.dumps({"study": k, "generated": v}) + "\n"
                                               for k, v in data.items()))
    with open(tmp / f"{stem}.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["study_id", "report_text"])
        w.writerows(data.items())
    (tmp / f"{stem}.txt").write_text("\n".join(data.values()) + "\n")
    return {"json": (_json(tmp / f"{stem}.json", data), []),
            "json_lists": (_json(tmp / f"{stem}_lists.json", {k: [v] for k, v in data.items()}), []),
            "jsonl": (tmp / f"{stem}.jsonl", ["--field", "generated", "--id-column", "study"]),
            "csv": (tmp / f"{stem}.csv", ["--id-column", "study_id", "--text-column", "report_text"]),
            "txt": (tmp / f"{stem}.txt", [])}


@pytest.mark.parametrize("fmt", ["json", "json_lists", "jsonl", "csv", "txt"])
def test_every_format_gives_the_same_scores(tmp_path, fmt):
    preds = _write_formats(tmp_path, PREDS, "pred")
    refs = _write_formats(tmp_path, REFS, "ref")
    base = tmp_path / "base"
    assert _run(preds["json"][0], refs["json"][0], "--out", base, *FAST).exit_code == 0
    (pred, flags), (ref, _) = preds[fmt], refs[fmt]
    out = tmp_path / fmt
    res = _run(pred, ref, "--out", out, *flags, *FAST)
    assert res.exit_code == 0, res.output
    for name in ("coco_bleu4", "coco_rouge_l", "finding_f1"):
        assert _metric(out, name)["value"] == pytest.approx(_metric(base, name)["value"])


def test_results_have_the_schema_of_a_run_with_file_hashes(tmp_path):
    out = tmp_path / "out"
    res = _run(_json(tmp_path / "p.json", PREDS), _json(tmp_path / "r.json", REFS), "--out", out, *FAST)
    assert res.exit_code == 0, res.output
    assert "coco_rouge_l" in res.output  # the same table as `harness run`
    results = json.loads((out / "results.json").read_text())
    assert {"task", "task_version", "task_config", "split", "data_source", "data_hash", "n_cases", "data_info",
            "model", "sampling", "seed", "metrics", "requests", "timings", "provenance"} <= set(results)
    m = results["metrics"]["coco_bleu4"]
    assert m["status"] == "ok" and m["ci_low"] <= m["value"] <= m["ci_high"] and "closest" in m["variant"]
    inputs = results["provenance"]["inputs"]
    assert len(inputs["predictions"]["sha256"]) == 64 and inputs["references"]["format"] == "json"
    assert results["provenance"]["harness_version"]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [s["case_id"] for s in samples] == list(REFS)
    assert {"coco_bleu4", "coco_rouge_l", "finding_f1"} <= set(samples[0]["scores"])
    # `harness compare` reads a score-reports directory like a run directory
    assert runner.invoke(app, ["compare", str(out), str(out)]).exit_code == 0


def test_modality_is_detected_and_selects_the_chexpert_f1(tmp_path):
    assert detect_modality(list(REFS.values()))[0] == "cxr"
    assert detect_modality(list(CT_REFS.values()))[0] == "ct"
    out = tmp_path / "ct"
    assert _run(_json(tmp_path / "p.json", CT_REFS), _json(tmp_path / "r.json", CT_REFS), "--out", out,
                *FAST).exit_code == 0
    chexpert = _metric(out, "chexpert_f1_micro_14")
    assert chexpert["status"] == "not_run" and "chest X-ray" in chexpert["reason"]
    out = tmp_path / "forced"
    assert _run(_json(tmp_path / "p.json", CT_REFS), _json(tmp_path / "r.json", CT_REFS), "--out", out,
                "--modality", "cxr", *FAST).exit_code == 0
    assert _metric(out, "chexpert_f1_micro_14")["status"] == "ok"


def test_missing_and_extra_ids_are_one_line_naming_them(tmp_path):
    preds = {k: v for k, v in PREDS.items() if k != "s2"} | {"zz": "extra"}
    p, r, out = _json(tmp_path / "p.json", preds), _json(tmp_path / "r.json", REFS), tmp_path / "out"
    res = _run(p, r, "--out", out, *FAST)
    assert res.exit_code == 2
    line = res.output.strip()
    assert "\n" not in line and "'s2'" in line and "'zz'" in line and "--allow-missing" in line
    assert not out.exists()
    res = _run(p, r, "--out", out, "--allow-missing", *FAST)
    assert res.exit_code == 0, res.output
    results = json.loads((out / "results.json").read_text())
    assert results["n_cases"] == 3
    assert results["data_info"]["left_out"]["references_without_prediction"] == 1
    assert results["data_info"]["left_out"]["predictions_without_reference"] == 1


MALFORMED = {
    "bad_json": ("p.json", '{"s1": "a", "s2": ', ["p.json", "not valid JSON", "line 1"]),
    "csv_row_fields": ("p.csv", 'id,report\ns1,"fine"\ns2,"a",extra\n', ["p.csv", "line 3", "3 fields"]),
    "non_string_text": ("p.json", '{"s1": "a", "s2": 42}', ["p.json", "'s2'", "a number"]),
    "duplicate_json_id": ("p.json", '{"s1": "a", "s1": "b"}', ["p.json", "'s1'", "twice"]),
    "duplicate_jsonl_id": ("p.jsonl", '{"id": "s1", "report": "a"}\n{"id": "s1", "report": "b"}\n',
                           ["p.jsonl", "line 2", "'s1'", "line 1"]),
    "jsonl_bad_line": ("p.jsonl", '{"id": "s1", "report": "a"}\n{"id": "s2", \n', ["p.jsonl", "line 2"]),
    "empty_file": ("p.json", "", ["p.json", "empty file"]),
    "empty_text_file": ("p.txt", "\n\n", ["p.txt", "empty file"]),
    "two_predictions": ("p.json", '{"s1": ["a", "b"]}', ["p.json", "'s1'", "one prediction"]),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_predictions_give_one_line_naming_file_and_record_and_write_nothing(tmp_path, case):
    name, content, expected = MALFORMED[case]
    (tmp_path / name).write_text(content)
    refs = tmp_path / ("r.txt" if name.endswith(".txt") else "r.json")
    refs.write_text("a\n" if name.endswith(".txt") else json.dumps(REFS))
    out = tmp_path / "out"
    res = _run(tmp_path / name, refs, "--out", out, *FAST)
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and "Traceback" not in line, res.output
    for text in expected:
        assert text in line, (text, line)
    assert not out.exists()


def test_malformed_input_leaves_an_existing_out_dir_as_it_was(tmp_path):
    out = tmp_path / "out"
    p, r = _json(tmp_path / "p.json", PREDS), _json(tmp_path / "r.json", REFS)
    assert _run(p, r, "--out", out, *FAST).exit_code == 0
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    (tmp_path / "bad.json").write_text("{")
    assert _run(tmp_path / "bad.json", r, "--out", out, *FAST).exit_code == 2
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before


def test_refuses_to_overwrite_a_run_directory(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text("{}")
    res = _run(_json(tmp_path / "p.json", PREDS), _json(tmp_path / "r.json", REFS), "--out", out, *FAST)
    assert res.exit_code == 2 and "harness run" in res.output


def test_text_file_against_keyed_file_is_an_error(tmp_path):
    (tmp_path / "p.txt").write_text("\n".join(PREDS.values()))
    res = _run(tmp_path / "p.txt", _json(tmp_path / "r.json", REFS), "--out", tmp_path / "out", *FAST)
    assert res.exit_code == 2 and "p.txt" in res.output and "line" in res.output


def test_compare_gives_paired_p_values_per_metric(tmp_path):
    refs = {f"s{i}": REFS[f"s{i % 4 + 1}"] for i in range(40)}
    good = dict(refs)
    bad = {k: "No acute abnormality." for k in refs}
    r, g, b = _json(tmp_path / "r.json", refs), _json(tmp_path / "good.json", good), _json(tmp_path / "bad.json", bad)
    for test in ("randomization", "bootstrap"):
        out = tmp_path / test
        res = _run(g, r, "--out", out, "--compare", b, "--test", test, "--resamples", "200", *FAST)
        assert res.exit_code == 0, res.output
        comparison = json.loads((out / "results.json").read_text())["comparison"]
        assert comparison["test"] == test and comparison["other"]["path"].endswith("bad.json")
        bleu = comparison["metrics"]["coco_bleu4"]
        assert bleu["status"] == "ok" and bleu["difference"] > 0 and bleu["p_value"] < 0.05
        assert comparison["metrics"]["finding_f1"]["p_value"] < 0.05
    out = tmp_path / "same"
    assert _run(g, r, "--out", out, "--compare", g, "--resamples", "50", *FAST).exit_code == 0
    same = json.loads((out / "results.json").read_text())["comparison"]["metrics"]
    assert same["coco_rouge_l"]["p_value"] == 1.0 and same["coco_rouge_l"]["difference"] == 0
