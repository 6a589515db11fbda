using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebConsole.Web.Components.Shared;

namespace WebConsole.Unit.Components;

/// <summary>Model answers render as markdown that cannot run script (the playground's answer view, rendered with HtmlRenderer).</summary>
public sealed class MarkdownViewTests
{
    [Fact]
    public async Task Markdown_renders_as_html()
    {
        var html = await RenderAsync("# Title\n\nSome **bold** text and `code`, a [link](https://example.com/a?b=1).\n\n- one\n- two");
        Assert.Contains("<h1", html, StringComparison.Ordinal);
        Assert.Contains("<strong>bold</strong>", html, StringComparison.Ordinal);
        Assert.Contains("<code>code</code>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://example.com/a?b=1\">link</a>", html, StringComparison.Ordinal);
        Assert.Contains("<li>two</li>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Here you go: <script>alert('x')</script> done")]
    [InlineData("<script>\nalert('x')\n</script>")]
    [InlineData("<img src=x onerror=\"alert('x')\">")]
    [InlineData("<iframe src=\"https://evil.example\"></iframe>")]
    [InlineData("[click](javascript:alert('x'))")]
    [InlineData("[click](JaVa\tScRiPt:alert('x'))")]
    [InlineData("![image](javascript:alert('x'))")]
    [InlineData("<javascript:alert('x')>")]
    [InlineData("[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    public async Task An_answer_with_script_renders_inert(string markdown)
    {
        var html = await RenderAsync(markdown);
        foreach (var forbidden in new[] { "<script", "<img src=x", "<iframe", "onerror=\"", "href=\"javascript", "src=\"javascript", "href=\"data:", "src=\"data:" })
        {
            Assert.DoesNotContain(forbidden, html, StringComparison.OrdinalIgnoreCase);
        }

        // The text is kept, escaped, so the reader still sees what the model wrote.
        if (markdown.StartsWith("Here", StringComparison.Ordinal))
        {
            Assert.Contains("&lt;script&gt;alert", html, StringComparison.Ordinal);
        }
    }

    private static async Task<string> RenderAsync(string markdown)
    {
        await using var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<MarkdownView>(ParameterView.FromDictionary(new Dictionary<string, object?> { ["Text"] = markdown }));
            return output.ToHtmlString();
        });
    }
}
