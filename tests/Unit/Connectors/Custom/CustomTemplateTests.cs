using WebConsole.Infrastructure.Connectors.Custom;

namespace WebConsole.Unit.Connectors.Custom;

public sealed class CustomTemplateTests
{
    [Fact]
    public void Placeholders_are_replaced_and_text_around_them_is_kept()
    {
        var template = CustomTemplate.Parse("super:${key}, ${key2}!", "request");
        Assert.Equal(["key", "key2"], template.Placeholders);
        Assert.Equal("super:value, value2!", template.Render(new Dictionary<string, string> { ["key"] = "value", ["key2"] = "value2" }));
    }

    [Fact]
    public void A_placeholder_without_a_value_is_named_in_the_error()
    {
        var template = CustomTemplate.Parse("""{"a": ${known}, "b": ${unknown}}""", "request");
        var error = Assert.Throws<CustomTemplateException>(() => template.Render(new Dictionary<string, string> { ["known"] = "1" }));
        Assert.Equal("unknown", error.Placeholder);
        Assert.Equal("Found placeholder [${unknown}] in field [request] after replacement call", error.Message);
        Assert.Equal("Found placeholder [${unknown}] in field [request] after replacement call", template.FindUnknown(n => n == "known"));
        Assert.Null(template.FindUnknown(_ => true));
    }

    [Fact]
    public void Rendering_is_one_pass_so_values_are_never_expanded_again()
    {
        // An input that reads like a placeholder must not pull a secret into the request.
        var template = CustomTemplate.Parse("""{"input": ${input}}""", "request");
        var rendered = template.Render(new Dictionary<string, string> { ["input"] = "[\"${api_key}\"]", ["api_key"] = "secret" });
        Assert.Equal("""{"input": ["${api_key}"]}""", rendered);
    }

    [Fact]
    public void Dollar_braces_across_a_line_break_or_unclosed_are_plain_text()
    {
        var template = CustomTemplate.Parse("a ${key\n} b ${open", "request");
        Assert.Empty(template.Placeholders);
        Assert.Equal("a ${key\n} b ${open", template.Render(new Dictionary<string, string>()));
    }

    [Fact]
    public void A_name_runs_to_the_first_closing_brace_and_may_hold_any_character()
    {
        var template = CustomTemplate.Parse("${we'ird \"key}}", "header.X");
        Assert.Equal(["we'ird \"key"], template.Placeholders);
        Assert.Equal("v}", template.Render(new Dictionary<string, string> { ["we'ird \"key"] = "v" }));
    }
}
