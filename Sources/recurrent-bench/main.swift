import Recurrent
print("recurrent-bench: no benchmarks yet")
