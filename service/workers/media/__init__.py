"""The media worker and the image work it does: checking and rendering images (images,
pngstream), the process's pixel budget they share with upload checks (budget), the worker
that claims media jobs, renders and stores the renditions (jobs), and the cleanup contexts
that open storage and run the worker (context)."""
