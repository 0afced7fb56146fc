"""CUDA target (CUDA C emission, NVRTC, launch): a later issue."""
