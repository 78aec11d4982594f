"""The photos screen: the thumbnail grid and the viewer with OCR boxes."""
