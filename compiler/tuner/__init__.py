"""Auto-tuner: schedules searched with a gradient-boosted cost model (AutoTVM / Ansor's loop).

    compiler tune model.onnx --records r.jsonl --trials 200
    compiler.compile(model, records="r.jsonl")      # best record per workload

One module per part, each usable alone:

- `task`: the unique kernels of a model (`Task`: workload key, kernel,
  weight = calls per inference, FLOPs), ordered by their share of the
  model's time under the default schedule.
- `space`: the search space of one kernel (`SearchSpace`): the knobs of its
  default-schedule rule (compiler/schedule/rules/), a point is a dict
  knob -> value, the default point reproduces `default_schedule` exactly,
  and `space.schedule(point)` returns the Schedule or None when the point is
  rejected statically (a primitive that fails, a vectorize that would stay
  scalar, more accumulators than registers).
- `features`: a fixed-length vector per scheduled kernel, read from the
  scheduled loop IR (Ansor's per-store features), never from knob values.
- `cost_model`: a scikit-learn gradient-boosted regressor on normalized
  throughput, retrained after each measured batch, warm-started from other
  tasks' records, saved beside the records.
- `measure`: candidates built in worker processes, timed in an isolated
  runner process (timeout, warm-up, repeats of a minimum duration, a
  numerical check against the default schedule); a crash, hang or wrong
  result is a failed candidate with its reason.
- `records`: append-only JSON lines, flushed per record, a torn last line
  tolerated; the best record per workload for the matching target.
- `search`: simulated annealing over the model's predictions, epsilon-greedy
  batches, never re-measuring a point.
- `tune`: the loop that ties them together, and the CLI's `compiler tune`.
"""
