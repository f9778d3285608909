"""ganforge's image plugin: the image modality, DCGAN and the "shapes" demo data set.

Registered through the entry point ``image = "ganforge_image.plugin"``; nothing here
is imported until a component is used.
"""

__version__ = "0.1.0"
