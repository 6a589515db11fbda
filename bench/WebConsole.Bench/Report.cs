using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace WebConsole.Bench;

/// <summary>Writes a run's results: results.json (everything), results.md (the table) and chart.svg.</summary>
internal static class Report
{
    public static JsonObject Machine(BenchOptions options)
    {
        string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : string.Empty;
        var cpu = Read("/proc/cpuinfo").Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memoryKb = Read("/proc/meminfo").Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim().Split(' ')[0];
        var memory = long.TryParse(memoryKb, CultureInfo.InvariantCulture, out var kb) ? $"{kb / 1024.0 / 1024.0:0.0} GiB" : "unknown";
        var os = Read("/etc/os-release").Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? RuntimeInformation.OSDescription;
        return new JsonObject
        {
            ["cpu_model"] = cpu,
            ["logical_cores"] = Environment.ProcessorCount,
            ["memory"] = memory,
            ["os"] = os,
            ["kernel"] = Read("/proc/sys/kernel/osrelease").Trim() is { Length: > 0 } kernel ? kernel : RuntimeInformation.OSDescription,
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["onnxruntime"] = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString(),
            ["node"] = Command("node", "--version"),
            ["load_average_at_start"] = Read("/proc/loadavg").Trim(),
            ["threads"] = options.Threads,
        };
    }

    public static string Command(string file, params string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    public static void Write(BenchOptions options, Results results, JsonObject machine, JsonObject models, DateTimeOffset started, string commit)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var figures = new JsonArray();
        foreach (var f in results.Figures)
        {
            figures.Add(new JsonObject
            {
                ["suite"] = f.Suite,
                ["name"] = f.Name,
                ["unit"] = f.Unit,
                ["min"] = Round(f.Min),
                ["median"] = Round(f.Median),
                ["max"] = Round(f.Max),
                ["runs"] = new JsonArray([.. f.Runs.Select(Round)]),
                ["note"] = f.Note,
            });
        }

        var ratios = new JsonArray();
        foreach (var r in results.Ratios)
        {
            ratios.Add(new JsonObject { ["name"] = r.Name, ["value"] = Round(r.Value), ["target"] = r.Target, ["met"] = r.Met, ["explanation"] = r.Explanation });
        }

        var document = new JsonObject
        {
            ["quick"] = options.Quick,
            ["started_utc"] = started.ToString("O", CultureInfo.InvariantCulture),
            ["finished_utc"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["git_commit"] = commit,
            ["machine"] = machine,
            ["settings"] = new JsonObject
            {
                ["threads"] = options.Threads,
                ["repeats"] = options.Repeats,
                ["seconds_per_throughput_run"] = options.Duration.TotalSeconds,
                ["seconds_per_micro_run"] = options.ShortDuration.TotalSeconds,
                ["corpus_texts"] = options.CorpusSize,
                ["chat_max_tokens"] = options.ChatTokens,
            },
            ["models"] = models,
            ["figures"] = figures,
            ["ratios"] = ratios,
            ["notes"] = new JsonArray([.. results.Notes.Select(n => (JsonNode?)n)]),
        };
        File.WriteAllText(Path.Combine(options.OutputDirectory, "results.json"), document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var table = Table(results, machine, commit, options);
        File.WriteAllText(Path.Combine(options.OutputDirectory, "results.md"), table);
        File.WriteAllText(Path.Combine(options.OutputDirectory, "chart.svg"), Chart(results, machine, options));
        Console.WriteLine();
        Console.WriteLine(table);
        Console.WriteLine($"Wrote {Path.GetFullPath(Path.Combine(options.OutputDirectory, "results.json"))}, results.md and chart.svg");
    }

    /// <summary>JSON has no NaN or infinity: a figure that could not be measured (no successful request) is null.</summary>
    private static JsonNode? Round(double value) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, 4)) : null;

    private static string Table(Results results, JsonObject machine, string commit, BenchOptions options)
    {
        var text = new StringBuilder();
        var n = CultureInfo.InvariantCulture;
        text.AppendLine(n, $"WebConsole benchmark{(options.Quick ? " (--quick smoke: figures are not meaningful)" : string.Empty)}: {machine["cpu_model"]}, {machine["logical_cores"]} cores, {machine["memory"]}, {machine["os"]}; commit {commit}; {options.Threads} threads; median of {options.Repeats} runs (min-max)");
        text.AppendLine();
        text.AppendLine("| suite | measurement | unit | median | min | max |");
        text.AppendLine("|---|---|---|---:|---:|---:|");
        foreach (var f in results.Figures)
        {
            text.AppendLine(n, $"| {f.Suite} | {f.Name}{(f.Note is null ? string.Empty : $" ({f.Note})")} | {f.Unit} | {Format(f.Median)} | {Format(f.Min)} | {Format(f.Max)} |");
        }

        text.AppendLine();
        text.AppendLine("| ratio (same run, medians) | value | target | met |");
        text.AppendLine("|---|---:|---|---|");
        foreach (var r in results.Ratios)
        {
            text.AppendLine(n, $"| {r.Name} | {Format(r.Value)} | {r.Target} | {(r.Met is null ? "n/a" : r.Met.Value ? "yes" : "**no**")}: {r.Explanation} |");
        }

        if (results.Notes.Count > 0)
        {
            text.AppendLine();
            foreach (var note in results.Notes)
            {
                text.AppendLine("- " + note);
            }
        }

        return text.ToString();
    }

    private static string Format(double value) =>
        !double.IsFinite(value) ? "n/a" : Math.Abs(value) >= 100 ? value.ToString("#,0", CultureInfo.InvariantCulture) : value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Horizontal bar panels (median bars with min-max whiskers), one per comparison, scaled per panel.</summary>
    private static string Chart(Results results, JsonObject machine, BenchOptions options)
    {
        var panels = new (string Title, Func<Figure, bool> Pick)[]
        {
            ("Embedding throughput, tokens/s", f => f.Suite == "embed" && f.Unit == "tokens/s"),
            ("Rerank throughput, pairs/s", f => f.Suite == "rerank" && f.Unit == "pairs/s"),
            ("Chat, ms per generated token (lower is better)", f => f.Suite == "chat" && f.Unit is "ms" or "ms/token" && f.Name.Contains("token", StringComparison.Ordinal) && !f.Name.Contains("first", StringComparison.Ordinal)),
            ("Gateway, ms p50 (lower is better)", f => f.Suite == "gateway" && f.Unit == "ms p50"),
            ("Scaling in-process, tokens/s", f => f.Suite == "scaling"),
        };
        XNamespace svg = "http://www.w3.org/2000/svg";
        const int width = 980, label = 430, barMax = 440, row = 20;
        var y = 50;
        var body = new List<XElement>
        {
            new(svg + "text", new XAttribute("x", 10), new XAttribute("y", 24), new XAttribute("font-size", 16), new XAttribute("font-weight", "bold"),
                $"WebConsole benchmark{(options.Quick ? " (quick smoke)" : string.Empty)}: {machine["cpu_model"]}, {machine["logical_cores"]} cores, {options.Threads} threads"),
        };
        foreach (var (title, pick) in panels)
        {
            var figures = results.Figures.Where(pick).ToList();
            if (figures.Count == 0)
            {
                continue;
            }

            body.Add(new XElement(svg + "text", new XAttribute("x", 10), new XAttribute("y", y + 14), new XAttribute("font-size", 14), new XAttribute("font-weight", "bold"), title));
            y += 24;
            var max = figures.Max(f => double.IsFinite(f.Max) ? f.Max : 0);
            foreach (var f in figures)
            {
                double Scale(double v) => max > 0 && double.IsFinite(v) ? v / max * barMax : 0;
                var inProcess = f.Suite == "scaling" || f.Name.Contains("ceiling", StringComparison.Ordinal)
                    || f.Name.Contains("in-process", StringComparison.Ordinal) || f.Name.StartsWith("decode step", StringComparison.Ordinal);
                var colour = inProcess ? "#7a7a7a"
                    : f.Name.Contains("peer", StringComparison.Ordinal) ? "#d9822b" : "#2b6cb0";
                body.Add(new XElement(svg + "text", new XAttribute("x", label - 6), new XAttribute("y", y + 14), new XAttribute("font-size", 12), new XAttribute("text-anchor", "end"), Shorten(f.Name)));
                body.Add(new XElement(svg + "rect", new XAttribute("x", label), new XAttribute("y", y + 3), new XAttribute("width", Num(Scale(f.Median))), new XAttribute("height", row - 6), new XAttribute("fill", colour)));
                body.Add(new XElement(svg + "line", new XAttribute("x1", Num(label + Scale(f.Min))), new XAttribute("x2", Num(label + Scale(f.Max))), new XAttribute("y1", y + 10), new XAttribute("y2", y + 10), new XAttribute("stroke", "black")));
                body.Add(new XElement(svg + "text", new XAttribute("x", Num(label + Math.Max(Scale(f.Median), Scale(f.Max)) + 6)), new XAttribute("y", y + 14), new XAttribute("font-size", 12), Format(f.Median)));
                y += row;
            }

            y += 12;
        }

        body.Add(new XElement(svg + "text", new XAttribute("x", 10), new XAttribute("y", y + 10), new XAttribute("font-size", 11), new XAttribute("fill", "#555"),
            "Bars: median; whiskers: min-max over repeated runs. Grey: in-process runtime, blue: WebConsole over HTTP, orange: transformers.js peer."));
        var root = new XElement(svg + "svg", new XAttribute("width", width), new XAttribute("height", y + 24), new XAttribute("font-family", "sans-serif"),
            new XElement(svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "white")), body);
        return root.ToString();
    }

    private static string Num(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length > 64 ? text[..61] + "..." : text;
}
