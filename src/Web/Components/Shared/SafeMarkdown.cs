using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace WebConsole.Web.Components.Shared;

/// <summary>
/// Markdown to HTML that cannot run script: raw HTML (blocks and inlines) is written as text, and links and images keep
/// only http, https and mailto addresses (or relative ones), so neither <c>&lt;script&gt;</c> nor <c>javascript:</c>
/// survives. Model answers are untrusted input. Thread-safe.
/// </summary>
public static class SafeMarkdown
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseEmphasisExtras()
        .UsePipeTables()
        .UseAutoLinks()
        .DisableHtml()
        .Build();

    /// <summary>The HTML of <paramref name="markdown"/>.</summary>
    public static string ToHtml(string? markdown)
    {
        var document = Markdown.Parse(markdown ?? string.Empty, Pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            if (!IsSafe(link.Url))
            {
                link.Url = "#";
            }
        }

        foreach (var link in document.Descendants<AutolinkInline>())
        {
            if (!IsSafe(link.Url))
            {
                link.Url = "#";
            }
        }

        return document.ToHtml(Pipeline);
    }

    private static bool IsSafe(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return true;
        }

        // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:"), so they are dropped first.
        var compact = new string([.. url.Where(c => !char.IsControl(c) && !char.IsWhiteSpace(c))]);
        var colon = compact.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || compact.IndexOfAny(['/', '?', '#']) is var separator && separator >= 0 && separator < colon)
        {
            return true;
        }

        var scheme = compact[..colon];
        return scheme.Equals("http", StringComparison.OrdinalIgnoreCase) || scheme.Equals("https", StringComparison.OrdinalIgnoreCase)
            || scheme.Equals("mailto", StringComparison.OrdinalIgnoreCase);
    }
}
