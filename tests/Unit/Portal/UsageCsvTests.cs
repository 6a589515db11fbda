using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Unit.Portal;

/// <summary>The usage export the portal downloads: spreadsheet-safe cells and the billing dimension on every line.</summary>
public sealed class UsageCsvTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\r=1", "\"'\r=1\"")]
    [InlineData("plain-model", "plain-model")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("", "")]
    public void Cells_a_spreadsheet_would_evaluate_get_an_apostrophe_and_others_stay_as_they_are(string value, string expected) =>
        Assert.Equal(expected, UsageCsv.Escape(value));

    [Fact]
    public async Task Every_line_carries_the_billing_dimension_and_user_text_cannot_become_a_formula()
    {
        var team = Guid.NewGuid();
        UsageRecord[] records =
        [
            UsageRecord.Create(Guid.NewGuid(), "req-1", Guid.NewGuid(), team, "=cmd|' /C calc'!A0", null, "@endpoint", "+model",
                TaskType.TextEmbedding, Surface.Inference, 12, 0, 0.0012m, "USD", UsageOutcome.Succeeded, new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero)),
            UsageRecord.Create(Guid.NewGuid(), "req-2", Guid.NewGuid(), team, null, Guid.NewGuid(), "chat", "-model",
                TaskType.ChatCompletion, Surface.OpenAI, 5, 7, 0.5m, "USD", UsageOutcome.Succeeded, new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero)),
        ];
        using var text = new StringWriter();

        await UsageCsv.WriteAsync(text, records.ToAsyncEnumerable());

        var lines = text.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var header = lines[0].Split(',');
        Assert.Equal("billing_dimension", header[^1]);
        Assert.All(lines.Skip(1), line => Assert.EndsWith(",Inference", line, StringComparison.Ordinal));
        var cells = lines.Skip(1).SelectMany(line => line.Split(',')).ToList();
        Assert.DoesNotContain(cells, cell => cell.TrimStart('"').Length > 0 && cell.TrimStart('"')[0] is '=' or '+' or '-' or '@');
        Assert.Contains("'@endpoint", cells);
        Assert.Contains("'+model", cells);
        Assert.Contains("'-model", cells);
        Assert.Contains(",'=cmd|' /C calc'!A0,", lines[1], StringComparison.Ordinal);
    }
}
