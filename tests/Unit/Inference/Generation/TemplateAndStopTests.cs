using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation;
using WebConsole.Inference.Generation.Templates;

namespace WebConsole.Unit.Inference.Generation;

public sealed class TemplateAndStopTests
{
    [Fact]
    public void Jinja_subset_renders_namespaces_loops_slices_filters_and_tests()
    {
        const string source = """
            {%- set ns = namespace(count=0, last='') %}
            {%- for m in messages[::-1] if m.role != 'system' %}
                {%- set ns.count = ns.count + 1 %}
                {%- if loop.first %}{% set ns.last = m.content %}{% endif %}
            {%- endfor %}
            {{- ns.count ~ '|' ~ ns.last | upper ~ '|' ~ (messages | length) }}
            {%- if extra is not defined and messages[0].content.startswith('Be') %}|undefined-ok{% endif %}
            {{- '|' + messages[0].content.split(' ')[-1].rstrip('.') + '|' + ({'a': [1, 2.5, none, true]} | tojson) }}
            {{- '|' ~ (7 // 2) ~ (7 % 3) ~ ('x' if false else 'y') ~ ('abc'[1:]) ~ ' ' | trim }}
            """;
        var template = ChatTemplate.Parse(source);

        var rendered = template.Render([new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hi"), new(ChatRole.Assistant, "Hello there")]);

        Assert.Equal("""2|HELLO THERE|3|undefined-ok|brief|{"a": [1, 2.5, null, true]}|31ybc""", rendered);
    }

    [Fact]
    public void Trim_blocks_and_lstrip_blocks_apply_as_in_transformers()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}\n    <{{ m.role }}>\n{% endfor %}\n{% if add_generation_prompt %}go{% endif %}");

        Assert.Equal("    <user>\n    <assistant>\ngo", template.Render([new(ChatRole.User, "a"), new(ChatRole.Assistant, "b")]));
    }

    [Fact]
    public void Raise_exception_in_a_template_is_an_input_error()
    {
        var template = ChatTemplate.Parse("{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}ok");

        Assert.Equal("ok", template.Render([new(ChatRole.User, "x")]));
        var error = Assert.Throws<InferenceInputException>(() => template.Render([new(ChatRole.Assistant, "x")]));
        Assert.Contains("must start with a user", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_buffer_holds_back_a_possible_match_and_releases_it_when_it_cannot_match()
    {
        var buffer = new StopSequenceBuffer(["</end>"]);

        Assert.Equal("Hello ", buffer.Add("Hello </"));
        Assert.Equal("</x", buffer.Add("x"));
        Assert.Equal("ab", buffer.Add("ab</en"));
        Assert.Equal(string.Empty, buffer.Add("d> and more"));
        Assert.True(buffer.Stopped);
        Assert.Equal(string.Empty, buffer.Flush());
    }

    [Fact]
    public void Top_p_keeps_only_the_nucleus_and_greedy_takes_the_first_maximum()
    {
        float[] logits = [0f, 5f, 5f, 4.9f, -3f];
        Assert.Equal(1, new TokenSampler(null, null, seed: 1).Next(logits));

        // Probabilities ≈ [0.003, 0.36, 0.36, 0.33, 0]: a top_p of 0.5 keeps ids 1 and 2 only.
        var sampler = new TokenSampler(1f, 0.5f, seed: 7);
        var drawn = Enumerable.Range(0, 200).Select(_ => sampler.Next(logits)).ToHashSet();
        Assert.Equal([1, 2], drawn.Order());
    }
}
