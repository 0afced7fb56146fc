"""TensorRT target: the optimized graph exported back to ONNX (onnx_export), built into a
TensorRT engine and run on a GPU (engine), behind an optional import of the `tensorrt` wheel.

The export runs and is tested without a GPU (onnxruntime is its oracle);
building and running an engine needs the wheel and an NVIDIA GPU.
"""
