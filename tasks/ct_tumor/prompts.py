"""What the model is asked. Kept apart from the task logic so that prompt changes are easy to review."""

REPORT_INSTRUCTION = (
    "You are a radiologist. The images above are {n} axial slices of one abdominal and chest CT, numbered 1 to "
    "{n} from inferior (feet) to superior (head){reformats}. Write the findings of a radiology report about "
    "tumors: for each tumor state the organ, its part, the side and the size in mm; state normal organs as "
    "normal. Then give the number of the axial slice that best shows the main finding. Answer exactly in the "
    "form <report>...</report><key_slice>N</key_slice>, with <key_slice>none</key_slice> if there is no tumor."
)
REFORMATS_NOTE = ", followed by a coronal and a sagittal reformat"


def report_prompt(n_axial: int, reformats: bool) -> str:
    return REPORT_INSTRUCTION.format(n=n_axial, reformats=REFORMATS_NOTE if reformats else "")
