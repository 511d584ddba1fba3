"""Sample-quality metrics: FID through torch-fidelity, CLIP score through open_clip, class accuracy."""
