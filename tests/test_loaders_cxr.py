"""CXR loaders on fixtures written in each dataset's exact layout and columns: MIMIC-CXR-JPG (+ reports), MS-CXR,
IU-Xray (both layouts), CheXpert Plus; malformed rows named by file and row; skip-bad finishing the rest; and the
tasks run end to end on them."""

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.errors import DataError, HarnessError
from harness.evaluate import RunSpec, evaluate
from harness.loaders import detect_dataset, load_dataset
from harness.phantoms.cxr import CXRPhantomConfig, make_cxr_phantom

MIMIC_SPLIT = ["dicom_id", "study_id", "subject_id", "split"]
MIMIC_METADATA = ["dicom_id", "subject_id", "study_id", "PerformedProcedureStepDescription", "ViewPosition", "Rows",
                  "Columns", "StudyDate", "StudyTime", "ProcedureCodeSequence_CodeMeaning",
                  "ViewCodeSequence_CodeMeaning", "PatientOrientationCodeSequence_CodeMeaning"]
CHEXPERT = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
            "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
            "Pneumothorax", "Support Devices"]
MIMIC_REPORT = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with cough  // eval for pneumonia

 TECHNIQUE:  Chest PA and lateral

 COMPARISON:  None.

 FINDINGS:

 {findings}

 IMPRESSION:

 {impression}
"""
STUDIES = [  # subject, study, split, findings, impression
    ("10000032", "50414267", "test", "There is a small left pleural effusion. No pneumothorax.",
     "Small left pleural effusion."),
    ("10000032", "53189527", "test", "The heart is enlarged. No focal consolidation.", "Cardiomegaly."),
    ("10000764", "57375967", "train", "No pleural effusion.", "No acute cardiopulmonary process."),
    ("10000898", "50771383", "test", "Right lower lobe consolidation.", "Pneumonia in the right lower lobe."),
]


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (128, 128)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(make_cxr_phantom(seed, CXRPhantomConfig(size=max(size))).image)
    img.resize(size).save(path)


def _csv(path: Path, header: list[str], rows: list[list], gz: bool = False) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.write_bytes(gzip.compress(buf.getvalue().encode()))
    else:
        path.write_text(buf.getvalue())


def _mimic(root: Path, reports: str = "zip") -> Path:
    split_rows, meta_rows, label_rows, texts = [], [], [], {}
    for i, (subject, study, split, findings, impression) in enumerate(STUDIES):
        folder = f"files/p{subject[:2]}/p{subject}/s{study}"
        lateral, frontal = f"{i:08x}-lat", f"{i:08x}-pa"
        for dicom, view in ((lateral, "LATERAL"), (frontal, "PA")):
            _image(root / folder / f"{dicom}.jpg", seed=i)
            split_rows.append([dicom, study, subject, split])
            meta_rows.append([dicom, subject, study, "CHEST (PA AND LAT)", view, 128, 128, "21800506", "213014.531",
                              "CHEST (PA AND LAT)", "postero-anterior" if view == "PA" else "lateral", "Erect"])
        label_rows.append([subject, study] + ["1.0" if c == "Pleural Effusion" and i == 0 else "" for c in CHEXPERT])
        texts[f"{folder}.txt"] = MIMIC_REPORT.format(findings=findings, impression=impression)
    _csv(root / "mimic-cxr-2.0.0-split.csv.gz", MIMIC_SPLIT, split_rows, gz=True)
    _csv(root / "mimic-cxr-2.0.0-metadata.csv.gz", MIMIC_METADATA, meta_rows, gz=True)
    _csv(root / "mimic-cxr-2.0.0-chexpert.csv.gz", ["subject_id", "study_id"] + CHEXPERT, label_rows, gz=True)
    if reports == "zip":
        with zipfile.ZipFile(root / "mimic-cxr-reports.zip", "w") as z:
            for rel, text in texts.items():
                z.writestr(rel, text)
    else:
        for rel, text in texts.items():
            (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("reports", ["zip", "files"])
def test_mimic_cxr_jpg_with_reports(tmp_path, reports):
    root = _mimic(tmp_path / "mimic-cxr-jpg", reports)
    assert detect_dataset(root, "cxr_report") == "mimic_cxr"
    ds = load_dataset(root, "cxr_report")
    assert [c.case_id for c in ds.cases] == ["mimic-s50414267", "mimic-s53189527", "mimic-s50771383"]
    case = ds.cases[0]
    assert case.image_path.endswith("00000000-pa.jpg") and case.meta["view"] == "PA"
    assert case.reference_report == ("FINDINGS: There is a small left pleural effusion. No pneumothorax. "
                                     "IMPRESSION: Small left pleural effusion.")
    assert case.meta["chexpert"]["Pleural Effusion"] == 1.0 and case.meta["chexpert"]["Edema"] is None
    assert case.label_path is None and case.findings == ()
    assert [c.case_id for c in load_dataset(root, "cxr_report", split="train").cases] == ["mimic-s57375967"]


def test_mimic_bad_rows_name_file_and_row_and_skip_bad_counts_them(tmp_path):
    root = _mimic(tmp_path / "m")
    rows = list(csv.reader(io.StringIO(gzip.decompress((root / "mimic-cxr-2.0.0-split.csv.gz").read_bytes())
                                       .decode())))
    rows[3] = rows[3][:2]  # a cut row: 2 fields
    rows.append(["deadbeef", "59999999", "10000999", "test"])  # an image that is not there
    _csv(root / "mimic-cxr-2.0.0-split.csv.gz", rows[0], rows[1:], gz=True)
    with pytest.raises(DataError, match=r"mimic-cxr-2\.0\.0-split\.csv\.gz, row 3 \(line 4\): 2 fields, the header "
                                        r"has 4"):
        load_dataset(root, "cxr_report")
    ds = load_dataset(root, "cxr_report", skip_bad=True)
    assert ds.info["skipped"] == 2 and len(ds.cases) == 3
    assert any("row 9" in m and "deadbeef.jpg not found" in m for m in ds.info["skipped_examples"])


def test_missing_report_is_named(tmp_path):
    root = _mimic(tmp_path / "m", reports="files")
    (root / "files/p10/p10000032/s53189527.txt").unlink()
    with pytest.raises(DataError, match=r"report .*s53189527\.txt not found"):
        load_dataset(root, "cxr_report")


def test_cxr_report_runs_on_mimic_through_the_harness(tmp_path):
    root = _mimic(tmp_path / "m")
    spec = RunSpec(model="baseline:oracle", task="cxr_report", data=str(root), n_boot=20)
    result = evaluate(spec, tmp_path / "run")
    metrics = result.results["metrics"]
    assert result.results["n_cases"] == 3 and result.results["data_source"] == str(root.resolve())
    assert metrics["finding_f1"]["value"] == 1.0 and metrics["chexpert_f1_micro_14"]["value"] == 1.0
    template = evaluate(RunSpec(model="baseline:template", task="cxr_report", data=str(root), n_boot=20),
                        tmp_path / "run-t").results["metrics"]
    assert template["finding_f1"]["value"] < 1.0


# -- MS-CXR -------------------------------------------------------------------------------------------------
MS_CXR_COLUMNS = ["dicom_id", "category_name", "label_text", "path", "x", "y", "w", "h", "image_width",
                  "image_height", "split"]


def _ms_cxr(root: Path) -> Path:
    rows = []
    specs = [("0a1b", "Pleural effusion", "small left pleural effusion", [(180, 300, 90, 60)], "test"),
             ("0a1b", "Cardiomegaly", "enlarged cardiac silhouette", [(100, 220, 130, 90)], "test"),
             ("2c3d", "Pleural effusion", "bilateral pleural effusions", [(20, 290, 90, 70), (190, 290, 90, 70)],
              "test"),
             ("4e5f", "Pneumonia", "right lower lobe pneumonia", [(40, 200, 80, 80)], "train")]
    for i, (dicom, cat, text, boxes, split) in enumerate(specs):
        rel = f"files/p1{i}/p1{i}000001/s5{i}000001/{dicom}.jpg"
        if not (root / rel).exists():
            _image(root / rel, seed=i, size=(300, 400))
        for x, y, w, h in boxes:
            rows.append([dicom, cat, text, rel, x, y, w, h, 300, 400, split])
    _csv(root / "MS_CXR_Local_Alignment_v1.1.0.csv", MS_CXR_COLUMNS, rows)
    return root


def test_ms_cxr_phrase_boxes(tmp_path):
    root = _ms_cxr(tmp_path / "ms-cxr")
    assert detect_dataset(root, "cxr_grounding") == "ms_cxr"
    ds = load_dataset(root, "cxr_grounding")
    assert len(ds.cases) == 3
    bilateral = next(c for c in ds.cases if c.meta["phrase"] == "bilateral pleural effusions")
    assert bilateral.meta["boxes"] == [[20.0, 290.0, 110.0, 360.0], [190.0, 290.0, 280.0, 360.0]]
    assert bilateral.meta["image_size"] == [300, 400] and bilateral.findings[0].observation == "pleural effusion"
    assert len(load_dataset(root, "cxr_grounding", split="train").cases) == 1


def test_cxr_grounding_runs_on_ms_cxr(tmp_path):
    root = _ms_cxr(tmp_path / "ms-cxr")
    oracle = evaluate(RunSpec(model="baseline:oracle", task="cxr_grounding", data=str(root), n_boot=20),
                      tmp_path / "o").results["metrics"]
    whole = evaluate(RunSpec(model="baseline:whole_image", task="cxr_grounding", data=str(root), n_boot=20),
                     tmp_path / "w").results["metrics"]
    assert oracle["miou"]["value"] > 0.99 and oracle["acc_iou50"]["value"] == 1.0
    assert whole["miou"]["value"] < 0.2 and whole["acc_iou50"]["value"] == 0.0
    maira = evaluate(RunSpec(model="baseline:oracle", task="cxr_grounding", data=str(root), n_boot=20,
                             task_options={"boxes": {"format": "maira2"}}), tmp_path / "m").results["metrics"]
    assert maira["acc_iou50"]["value"] == 1.0  # non-square images through MAIRA-2's centre crop and back


def test_ms_cxr_malformed_box_rows(tmp_path):
    root = _ms_cxr(tmp_path / "ms-cxr")
    rows = list(csv.reader(open(root / "MS_CXR_Local_Alignment_v1.1.0.csv")))
    rows[2][4] = "twelve"  # x of the second data row
    _csv(root / "MS_CXR_Local_Alignment_v1.1.0.csv", rows[0], rows[1:])
    with pytest.raises(DataError, match=r"MS_CXR_Local_Alignment_v1\.1\.0\.csv, row 2 \(line 3\): 'x' is not a "
                                        r"number"):
        load_dataset(root, "cxr_grounding")
    rows[2][4] = "100"
    rows[3][6] = "900"  # a box far outside the 300 x 400 image
    _csv(root / "MS_CXR_Local_Alignment_v1.1.0.csv", rows[0], rows[1:])
    with pytest.raises(DataError, match=r"row 3 \(line 4\): box .* lies outside"):
        load_dataset(root, "cxr_grounding")
    ds = load_dataset(root, "cxr_grounding", skip_bad=True)
    assert ds.info["skipped"] == 1 and len(ds.cases) == 2


# -- IU-Xray ------------------------------------------------------------------------------------------------
def test_iu_xray_r2gen_layout(tmp_path):
    root = tmp_path / "iu_xray"
    ann = {"train": [], "val": [], "test": []}
    for i, split in enumerate(["train", "test", "test", "val"]):
        uid = f"CXR{100 + i}_IM-00{i}"
        for k in range(2):
            _image(root / "images" / uid / f"{k}.png", seed=i)
        ann[split].append({"id": uid, "report": "the heart is normal in size . no pleural effusion .",
                           "image_path": [f"{uid}/0.png", f"{uid}/1.png"], "split": split})
    (root / "annotation.json").write_text(json.dumps(ann))
    assert detect_dataset(root, "cxr_report") == "iu_xray"
    ds = load_dataset(root, "cxr_report")
    assert [c.case_id for c in ds.cases] == ["iu-CXR101_IM-001", "iu-CXR102_IM-002"]
    assert ds.cases[0].image_path.endswith("CXR101_IM-001/0.png") and ds.info["layout"] == "r2gen"
    assert len(load_dataset(root, "cxr_report", split="val").cases) == 1


def test_iu_xray_openi_csv_layout(tmp_path):
    root = tmp_path / "iu"
    reports = [["1", "normal", "normal", "1_IM-0001-4001.dcm.png", "Positive TB test", "None.",
                "The cardiac silhouette and mediastinum size are within normal limits. There is no pulmonary edema.",
                "Normal chest x-XXXX."],
               ["2", "Cardiomegaly/borderline", "Cardiomegaly", "2_IM-0652-1001.dcm.png", "", "",
                "Borderline cardiomegaly. No focal consolidation.", "Borderline cardiomegaly."],
               ["3", "normal", "normal", "", "", "", "", ""]]
    _csv(root / "indiana_reports.csv", ["uid", "MeSH", "Problems", "image", "indication", "comparison", "findings",
                                        "impression"], reports)
    proj = [["1", "1_IM-0001-4001.dcm.png", "Frontal"], ["1", "1_IM-0001-3001.dcm.png", "Lateral"],
            ["2", "2_IM-0652-1001.dcm.png", "Frontal"]]
    _csv(root / "indiana_projections.csv", ["uid", "filename", "projection"], proj)
    for _, name, _ in proj:
        _image(root / "images" / "images_normalized" / name)
    ds = load_dataset(root, "cxr_report")
    assert [c.case_id for c in ds.cases] == ["iu-1", "iu-2"]
    assert ds.info["ignored"] == {"neither findings nor impression": 1}
    assert ds.cases[1].reference_report == ("FINDINGS: Borderline cardiomegaly. No focal consolidation. "
                                            "IMPRESSION: Borderline cardiomegaly.")
    (root / "images" / "images_normalized" / "2_IM-0652-1001.dcm.png").unlink()
    with pytest.raises(DataError, match=r"indiana_projections\.csv, row 3 \(line 4\): image .* not found"):
        load_dataset(root, "cxr_report")


# -- CheXpert Plus ------------------------------------------------------------------------------------------
CHEXPERT_PLUS_COLUMNS = [
    "path_to_image", "path_to_dcm", "frontal_lateral", "ap_pa", "deid_patient_id", "patient_report_date_order",
    "report", "section_narrative", "section_clinical_history", "section_history", "section_comparison",
    "section_technique", "section_procedure_comments", "section_findings", "section_impression",
    "section_end_of_impression", "section_summary", "section_accession_number", "age", "sex", "race", "ethnicity",
    "interpreter_needed", "insurance_type", "recent_bmi", "deceased", "split"]


def _chexpert_plus(root: Path) -> Path:
    rows = []
    specs = [("valid/patient64541/study1/view1_frontal.jpg", "Frontal", "valid", "Moderate cardiomegaly.",
              "Cardiomegaly."),
             ("valid/patient64541/study1/view2_lateral.jpg", "Lateral", "valid", "Moderate cardiomegaly.",
              "Cardiomegaly."),
             ("valid/patient64542/study1/view1_frontal.jpg", "Frontal", "valid", "", "No acute disease."),
             ("train/patient00001/study1/view1_frontal.jpg", "Frontal", "train", "Normal.", "Normal.")]
    for i, (path, fl, split, findings, impression) in enumerate(specs):
        _image(root / "PNG" / Path(path).with_suffix(".png"), seed=i)
        row = dict.fromkeys(CHEXPERT_PLUS_COLUMNS, "")
        row.update({"path_to_image": path, "path_to_dcm": path.replace(".jpg", ".dcm"), "frontal_lateral": fl,
                    "ap_pa": "AP" if fl == "Frontal" else "", "deid_patient_id": path.split("/")[1],
                    "patient_report_date_order": "1", "report": f"FINDINGS: {findings} IMPRESSION: {impression}",
                    "section_findings": findings, "section_impression": impression, "split": split})
        rows.append([row[c] for c in CHEXPERT_PLUS_COLUMNS])
    _csv(root / "df_chexpert_plus_240401.csv", CHEXPERT_PLUS_COLUMNS, rows)
    (root / "chexbert_labels").mkdir()
    (root / "chexbert_labels" / "findings_fixed.json").write_text(json.dumps(
        {"path_to_image": specs[0][0], **dict.fromkeys(CHEXPERT, None), "Cardiomegaly": 1.0}) + "\n")
    return root


def test_chexpert_plus(tmp_path):
    root = _chexpert_plus(tmp_path / "chexpert_plus")
    assert detect_dataset(root, "cxr_report") == "chexpert_plus"
    ds = load_dataset(root, "cxr_report")
    assert [c.case_id for c in ds.cases] == ["chexpertplus-patient64541-study1", "chexpertplus-patient64542-study1"]
    first, second = ds.cases
    assert first.image_path.endswith("PNG/valid/patient64541/study1/view1_frontal.png")
    assert first.reference_report == "FINDINGS: Moderate cardiomegaly. IMPRESSION: Cardiomegaly."
    assert second.reference_report == "IMPRESSION: No acute disease."
    assert first.meta["chexpert"]["Cardiomegaly"] == 1.0
    assert [c.case_id for c in load_dataset(root, "cxr_report", split="train").cases] == \
        ["chexpertplus-patient00001-study1"]
    with pytest.raises(HarnessError, match="no split 'dev'"):
        load_dataset(root, "cxr_report", split="dev")


def test_bad_quoting_is_a_bad_row(tmp_path):
    root = _chexpert_plus(tmp_path / "cp")
    text = (root / "df_chexpert_plus_240401.csv").read_text().splitlines()
    text.insert(2, 'valid/patient9/study1/view1_frontal.jpg,"x"y,' + "," * (len(CHEXPERT_PLUS_COLUMNS) - 3))
    (root / "df_chexpert_plus_240401.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataError, match=r"df_chexpert_plus_240401\.csv, row 2 \(line 3\): malformed CSV"):
        load_dataset(root, "cxr_report")
    assert load_dataset(root, "cxr_report", skip_bad=True).info["skipped"] == 1


def test_a_missing_column_stops_the_whole_file(tmp_path):
    root = tmp_path / "ms"
    _csv(root / "MS_CXR_Local_Alignment_v1.0.0.csv", ["dicom_id", "label_text"], [["a", "b"]])
    with pytest.raises(DataError, match=r"missing column\(s\) category_name, path, x"):
        load_dataset(root, "cxr_grounding", skip_bad=True)


def test_dataset_override_and_task_mismatch(tmp_path):
    root = _ms_cxr(tmp_path / "ms")
    with pytest.raises(HarnessError, match="gives cxr phrase_boxes records; cxr_report reads cxr study records"):
        load_dataset(root, "cxr_report", dataset="ms_cxr")
    with pytest.raises(HarnessError, match="looks like ms_cxr"):
        load_dataset(root, "cxr_report")
    assert np.isfinite(len(load_dataset(root, "cxr_grounding", dataset="ms_cxr").cases))
