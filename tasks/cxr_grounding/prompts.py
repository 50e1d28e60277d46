"""What the model is asked, per box format. Kept apart from the task logic so that prompt changes are easy to
review. The ``maira2`` prompt is MAIRA-2's own phrase-grounding instruction; the other families get the wording
their documentation uses to ask for boxes (Qwen's "bbox coordinates in JSON format", InternVL's "<ref>" request,
Florence-2's task token, PaliGemma's "detect" prefix), so that they answer in the syntax they were trained on."""

COMMON = ("The image above is a frontal chest X-ray; the patient's right is on the image's left. Locate this "
          "finding: \"{phrase}\". ")
FORMS = {
    "norm1": "Answer with one bounding box per place where it is seen, as [x1, y1, x2, y2]: the top-left and "
             "bottom-right corners as fractions of the image width and height, from 0 to 1, origin at the "
             "top-left.",
    "norm1000": "Answer with one bounding box per place where it is seen, as [x1, y1, x2, y2]: the top-left and "
                "bottom-right corners as integers from 0 to 1000 (0-1000 spans the image width and height), "
                "origin at the top-left.",
    "pixel": "Answer with one bounding box per place where it is seen, as [x1, y1, x2, y2]: the top-left and "
             "bottom-right corners in pixels of the {width} x {height} image, origin at the top-left.",
}
QWEN_JSON = ("Output the bbox coordinates of every place where it is seen in JSON format, "
             "as [{{\"bbox_2d\": [x1, y1, x2, y2], \"label\": \"...\"}}].")
FORMS["qwen2_5_vl"] = FORMS["qwen3_vl"] = QWEN_JSON
#: the families whose own instruction replaces the common one
OWN = {
    "internvl": ("Please provide the bounding box coordinate of the region this sentence describes: "
                 "<ref>{phrase}</ref>"),
    "florence2": "<CAPTION_TO_PHRASE_GROUNDING>{phrase}",
    "paligemma": "detect {phrase}",
}
MAIRA2 = ("Repeat the following finding as a grounded phrase with bounding boxes indicating all locations where "
          "it can be seen in the given chest X-ray image. Finding: {phrase}")


def grounding_prompt(phrase: str, box_format: str, width: int, height: int) -> str:
    if box_format == "maira2":
        return MAIRA2.format(phrase=phrase)
    if box_format in OWN:
        return OWN[box_format].format(phrase=phrase)
    return COMMON.format(phrase=phrase) + FORMS[box_format].format(width=width, height=height)
