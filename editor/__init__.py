"""editor: the image-editing app."""
