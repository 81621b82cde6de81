"""Read-throughput benchmark (project issue 7): proofboot vs Linux+fio vs qemu-img bench.

Modules:
  grid     the benchmark grid (block sizes x queue depths) and point labels
  measure  parsers: firmware bench lines, the Linux guest's fio output, qemu-img bench
  guest    builds the Linux guest initramfs (busybox init + trimmed fio) from Debian packages
  runs     boots QEMU (firmware and Linux guest, through python/proofboot/qmatrix.py) and runs qemu-img bench
  report   merges everything into a table, a CSV and a PNG chart
  cli      `python3 tools/bench {deps,guest,run,report,smoke}`

Standard library only, except the chart (Debian's python3-matplotlib, imported
only when a chart is drawn).
"""
