"""Dialogs: import/export, devices (pairing, sync), models."""
