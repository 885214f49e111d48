{
  "targets": [
    {
      "target_name": "ae_native",
      "sources": ["src/kernels.cc"],
      "cflags!": ["-O2", "-O0"],
      "cflags_cc!": ["-O2", "-O0"],
      "cflags_cc": ["-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno", "-std=c++17"],
      "ldflags": ["-pthread"]
    }
  ]
}
