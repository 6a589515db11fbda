using System.Text.Json;
using WebConsole.Tests.Shared.Node;

namespace WebConsole.Unit.Shared;

public sealed class NodeToolsTests
{
    [Fact]
    public async Task The_reference_implementations_install_and_run()
    {
        var output = await NodeTools.RunAsync("smoke.mjs", []);

        using var versions = JsonDocument.Parse(output);
        Assert.Equal("0.2.0", versions.RootElement.GetProperty("tokenizers").GetString());
        Assert.Equal("4.3.1", versions.RootElement.GetProperty("transformers").GetString());
    }
}
