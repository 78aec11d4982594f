"""Model registry and runtimes: embedders, OCR, taggers, chat and vision LLMs."""
