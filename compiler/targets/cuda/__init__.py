"""CUDA target: GPU-scheduled loop kernels as CUDA C (convert_loop_to_cuda), compiled by NVRTC.

Launching on a GPU through the driver API is still to come; everything up to
the cubin runs and is tested on machines without one.
"""
