using System.Globalization;

namespace WebConsole.Bench;

/// <summary>One figure measured over repeated runs: every run's value, summarised as min / median / max.</summary>
internal sealed record Figure(string Suite, string Name, string Unit, IReadOnlyList<double> Runs, string? Note = null)
{
    public double Min => Runs.Min();

    public double Median => Stats.Median(Runs);

    public double Max => Runs.Max();
}

/// <summary>A ratio computed from figures of the same run (medians), with the target it is judged against.</summary>
internal sealed record Ratio(string Name, double Value, string Target, bool? Met, string Explanation);

/// <summary>Everything one run produced, in the order it was measured.</summary>
internal sealed class Results
{
    private readonly List<Figure> _figures = [];
    private readonly List<Ratio> _ratios = [];
    private readonly List<string> _notes = [];

    public IReadOnlyList<Figure> Figures => _figures;

    public IReadOnlyList<Ratio> Ratios => _ratios;

    public IReadOnlyList<string> Notes => _notes;

    public Figure Add(string suite, string name, string unit, IReadOnlyList<double> runs, string? note = null)
    {
        var figure = new Figure(suite, name, unit, runs, note);
        _figures.Add(figure);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {suite,-10} {name,-58} {figure.Median,12:0.###} {unit} (min {figure.Min:0.###}, max {figure.Max:0.###})"));
        return figure;
    }

    public void AddRatio(string name, double value, string target, bool? met, string explanation)
    {
        _ratios.Add(new Ratio(name, value, target, met, explanation));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio      {name,-58} {value,12:0.###} (target {target}: {(met is null ? "n/a" : met.Value ? "met" : "NOT met")})"));
    }

    public void Note(string note)
    {
        _notes.Add(note);
        Console.WriteLine("  note: " + note);
    }

    public Figure? Find(string suite, string name) => _figures.LastOrDefault(f => f.Suite == suite && f.Name == name);
}

internal static class Stats
{
    public static double Median(IReadOnlyList<double> values) => Percentile(values, 50);

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(IReadOnlyList<double> values, double percent)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
