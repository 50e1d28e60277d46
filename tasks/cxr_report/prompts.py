"""What the model is asked. Kept apart from the task logic so that prompt changes are easy to review."""

REPORT_INSTRUCTION = (
    "You are a radiologist. The image above is a frontal chest X-ray; the patient's right is on the image's "
    "left. Write the findings and the impression of the radiology report: for each abnormality state what it "
    "is, its side, where it is (lung zone or lobe) and its size where it applies; mention support devices; state "
    "normal structures as normal. Answer exactly in the form <report>FINDINGS: ... IMPRESSION: ...</report>"
)


def report_prompt() -> str:
    return REPORT_INSTRUCTION
