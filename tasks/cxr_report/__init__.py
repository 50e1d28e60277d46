"""Chest X-ray report generation from one frontal radiograph."""
