"""Phrase grounding on chest X-rays: a finding phrase in, its bounding box(es) out."""
