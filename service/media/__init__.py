"""Media: uploaded images, their storage and their preset sizes."""
