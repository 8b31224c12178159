# make bench's chart: inflate and deflate throughput, ours against Linux
# and the limit line.  bench/run.py calls: gnuplot -e "dir='DIR'" plot.gp
# and reads DIR/chart.dat: a comment line, then "CASE" OURS LINUX LIMIT (MiB/s),
# one line per case and direction (inflate, deflate, dirty inflate, ...).
if (!exists("dir")) dir = "bench/results"
set terminal pngcairo size 1200,560 font "sans,10"
set output dir . "/bench.png"
set title "ballonet vs Linux virtio\\_balloon, QEMU TCG (median MiB/s, higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "MiB/s"
set yrange [0:*]
set grid ytics
set xtics rotate by -30
set key top left
plot dir . "/chart.dat" using 2:xtic(1) title "ours", \
     "" using 3 title "linux", \
     "" using 4 title "limit (host side, pre-zeroed pool)"
