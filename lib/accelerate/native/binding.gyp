{
  "targets": [
    {
      "target_name": "ae_native",
      "sources": ["src/addon.cc", "src/thread_pool.cc", "src/gemm.cc", "src/conv_im2col.cc", "src/conv_direct.cc", "src/conv_narrow.cc", "src/pooling.cc", "src/elementwise.cc", "src/activations.cc", "src/batch_norm.cc", "src/layout.cc"],
      "cflags!": ["-O2", "-O0"],
      "cflags_cc!": ["-O2", "-O0"],
      "cflags_cc": ["-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno", "-std=c++17"],
      "ldflags": ["-pthread"]
    }
  ]
}
