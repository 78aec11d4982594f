"""Packaged model files (ONNX image taggers, class names): see LICENSES.md."""
