"""Write ``coco_reference.json``: R2Gen-format prediction/reference files and what pycocoevalcap 1.2 computes on them.

Not run by the tests (it needs pycocoevalcap and, for PTBTokenizer, Java); the tests compare the harness's
coco_* metrics and its Python PTB tokenisation with the values recorded here.

    PYTHONPATH=/path/to/pycocoevalcap-1.2 python tests/data/make_coco_reference.py
"""

from __future__ import annotations

import json
import random
import re
from importlib.metadata import version
from pathlib import Path

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from tasks.ct_tumor.task import CTTumorTask
from tasks.cxr_report.task import CXRReportTask

OUT = Path(__file__).with_name("coco_reference.json")


def r2gen_clean(report: str) -> str:
    """R2Gen's clean_report_iu_xray, in short: lowercased sentences without punctuation joined by ' . '."""
    sentences = report.replace("..", ".").strip().lower().split(". ")
    cleaned = [re.sub(r"[.,?;*!%^&_+():\-\[\]{}\"/\\']", "", s).strip() for s in sentences]
    return " . ".join(s for s in cleaned if s) + " ."


def main() -> None:
    rng = random.Random(0)
    reports = [c.reference_report for c in CXRReportTask().load("test").cases]
    refs, preds = {}, {}
    for i, report in enumerate(reports[:60]):
        ref = r2gen_clean(report)
        sentences = ref.split(" . ")
        pick = rng.random()
        if pick < 0.3:  # another study's report
            pred = r2gen_clean(reports[(i + 7) % len(reports)])
        elif pick < 0.6:  # a sentence dropped
            pred = " . ".join(s for j, s in enumerate(sentences) if j != rng.randrange(len(sentences)))
        elif pick < 0.8:  # the template baseline
            pred = "the heart is normal in size . the lungs are clear . no pleural effusion or pneumothorax ."
        else:
            pred = ref
        refs[f"study_{i:03d}"] = [ref]
        preds[f"study_{i:03d}"] = [pred.strip()]
    gts = dict(refs)
    bleu, _ = Bleu(4).compute_score(gts, preds, verbose=0)
    rouge, _ = Rouge().compute_score(gts, preds)
    cider, _ = Cider().compute_score(gts, preds)

    raw = reports[:40] + [c.reference_report for c in CTTumorTask().load("test").cases[:40]] + [
        "There is a 2.3 cm mass in the liver (segment VI). Isn't it?",
        "The heart is normal; lungs: clear. No effusion/pneumothorax.",
        "Heart size is top-normal -- unchanged since 01/02/2020, i.e. stable.",
        "Dr. Smith's note: \"no change\" ... 1,000 mm, 10:30 am.",
        "XXXX. The cardiomediastinal silhouette is within normal limits!",
        "there's no pneumothorax, we'll see. can't tell. what?!", "'quoted' text [bracket] {brace} patients' lines",
        "1. Heart normal. 2. Lungs clear.", "it's 5% (approx.) 3-4 mm; $5 #3 & co"]
    tokenized = PTBTokenizer().tokenize({str(i): [{"caption": t}] for i, t in enumerate(raw)})
    OUT.write_text(json.dumps({
        "pycocoevalcap_version": version("pycocoevalcap"),
        "note": "Bleu(4), Rouge() and Cider() called on the files as R2Gen's modules/metrics.py does; ptb: "
                "PTBTokenizer (stanford-corenlp 3.4.1, -lowerCase) with pycocoevalcap's punctuation removal",
        "predictions": preds, "references": refs,
        "scores": {"coco_bleu1": bleu[0], "coco_bleu2": bleu[1], "coco_bleu3": bleu[2], "coco_bleu4": bleu[3],
                   "coco_rouge_l": float(rouge), "coco_cider_d": float(cider)},
        "ptb": [{"text": t, "tokens": tokenized[str(i)][0]} for i, t in enumerate(raw)],
    }, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
