using System.Net;
using System.Text.Json;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Clients;

public sealed class OpenApiDocumentTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task The_openapi_document_is_public_and_lists_the_inference_and_openai_surfaces()
    {
        using var client = fixture.Server.CreateClient();
        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");

        using var document = JsonDocument.Parse(body);
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/chat/completions", paths);
        Assert.Contains("/v1/embeddings", paths);
        Assert.Contains("/v1/models", paths);
        Assert.Contains("/_inference/_services", paths);
        Assert.Contains(paths, p => p.StartsWith("/_inference/{", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.EndsWith("/_stream", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.StartsWith("/_security/", StringComparison.Ordinal));

        // The portal's pages are not API operations.
        Assert.DoesNotContain(paths, p => p.StartsWith("/account", StringComparison.OrdinalIgnoreCase));
    }
}
