package io.taskmesh.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** p50 and p99 latency against offered rate, one line pair per path, as a PNG. */
public final class LatencyPlot {
  private LatencyPlot() {}

  public static void write(List<ScenarioResult> results, List<Integer> rates, Path png) {
    XYChart chart = new XYChartBuilder().width(900).height(520)
        .title("gRPC GetTask latency by path (open loop, same run)").xAxisTitle("offered rate (requests/s)")
        .yAxisTitle("latency (ms)").build();
    chart.getStyler().setYAxisLogarithmic(true);
    Map<String, List<ScenarioResult>> byTopology = new LinkedHashMap<>();
    results.forEach(r -> byTopology.computeIfAbsent(r.topology(), k -> new ArrayList<>()).add(r));
    List<Double> x = rates.stream().map(Integer::doubleValue).toList();
    byTopology.forEach((topology, runs) -> {
      for (double percentile : new double[] {50, 99}) {
        List<Double> y = new ArrayList<>();
        for (int rate : rates) {
          y.add(runs.stream().mapToDouble(r -> r.openLoop().get(rate).percentileMillis(percentile)).sorted()
              .skip(runs.size() / 2).findFirst().orElse(0) + 0.001);
        }
        chart.addSeries(topology + " p" + (int) percentile, x, y).setMarker(SeriesMarkers.CIRCLE);
      }
    });
    try {
      BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png, e);
    }
  }
}
