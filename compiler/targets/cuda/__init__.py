"""CUDA target: GPU-scheduled loop kernels as CUDA C (convert_loop_to_cuda), compiled by NVRTC.

The driver-API launcher (launch.py) runs a model's plan (plan.py) on a GPU;
export.py writes a compiled model (cubins, PTX, launch table, memory plan,
weights) as one file that `compiler.load` runs on a GPU machine. Everything
up to the cubin and the exported file runs and is tested without a GPU.
"""
