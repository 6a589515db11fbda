using WebConsole.Infrastructure.Connectors.Outbound;

namespace WebConsole.Unit.Connectors.Outbound;

public sealed class ProviderErrorsTests
{
    [Theory]
    [InlineData(429, 429, "Received a rate limit status code for request from inference entity id [my-id] status [429]. Error message: [provider says]")]
    [InlineData(401, 401, "Received an authentication error status code for request from inference entity id [my-id] status [401]. Error message: [provider says]")]
    [InlineData(403, 403, "Received a permission denied error status code for request from inference entity id [my-id] status [403]. Error message: [provider says]")]
    [InlineData(500, 400, "Received a server error status code for request from inference entity id [my-id] status [500]. Error message: [provider says]")]
    [InlineData(502, 400, "Received a server error status code for request from inference entity id [my-id] status [502]. Error message: [provider says]")]
    [InlineData(503, 400, "Received a server busy error status code for request from inference entity id [my-id] status [503]. Error message: [provider says]")]
    [InlineData(400, 400, "Received a bad request status code for request from inference entity id [my-id] status [400]. Error message: [provider says]")]
    [InlineData(413, 413, "Received a content too large status code for request from inference entity id [my-id] status [413]. Error message: [provider says]")]
    [InlineData(422, 422, "Received an input validation error response for request from inference entity id [my-id] status [422]. Error message: [provider says]")]
    [InlineData(409, 409, "Received an unsuccessful status code for request from inference entity id [my-id] status [409]. Error message: [provider says]")]
    [InlineData(418, 400, "Received an unsuccessful status code for request from inference entity id [my-id] status [418]. Error message: [provider says]")]
    [InlineData(302, 302, "Unhandled redirection for request from inference entity id [my-id] status [302]. Error message: [provider says]")]
    public void Provider_statuses_get_Elasticsearchs_messages_and_statuses(int providerStatus, int status, string reason)
    {
        var error = ProviderErrors.FromStatus(providerStatus, "my-id", "provider says");
        Assert.Equal((status, "status_exception", reason), (error.Status, error.Type, error.Reason));
    }

    [Fact]
    public void Without_a_provider_message_the_reason_ends_at_the_status()
    {
        var error = ProviderErrors.FromStatus(429, "x", null);
        Assert.Equal("Received a rate limit status code for request from inference entity id [x] status [429]", error.Reason);
    }

    [Fact]
    public void A_404_names_the_url_without_its_query()
    {
        var error = ProviderErrors.FromStatus(404, "x", "no such model", new Uri("https://api.example.com/v1/embeddings?key=secret"));
        Assert.Equal(404, error.Status);
        Assert.Equal("Resource not found at [https://api.example.com/v1/embeddings] for request from inference entity id [x] status [404]. Error message: [no such model]", error.Reason);
    }

    [Fact]
    public void OpenAIs_prompt_too_long_message_is_content_too_large()
    {
        var error = ProviderErrors.FromStatus(400, "x", "This model's maximum context length is 8192 tokens. Please reduce your prompt; or completion length.");
        Assert.Equal(413, error.Status);
        Assert.StartsWith("Received a content too large status code", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_in_the_providers_message_are_redacted()
    {
        var error = ProviderErrors.FromStatus(401, "x", "Incorrect API key provided: sk-secret-123456.", secrets: ["sk-secret-123456"]);
        Assert.DoesNotContain("sk-secret-123456", error.Reason, StringComparison.Ordinal);
        Assert.Contains("Incorrect API key provided: [REDACTED].", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"error":{"message":"openai style","type":"x"}}""", "openai style")]
    [InlineData("""{"error":"plain error"}""", "plain error")]
    [InlineData("""{"message":"cohere style"}""", "cohere style")]
    [InlineData("""{"detail":"mistral style"}""", "mistral style")]
    [InlineData("""{"detail":[{"loc":["body"],"msg":"field required"},{"msg":"extra"}]}""", "field required; extra")]
    [InlineData("""[{"error":"hugging face list"}]""", "hugging face list")]
    [InlineData("Service Unavailable", "Service Unavailable")]
    [InlineData("""{"unrelated":1}""", null)]
    [InlineData("", null)]
    [InlineData("<html><body>502 Bad Gateway</body></html>", null)]
    public void The_providers_message_is_found_in_the_usual_error_shapes(string body, string? message) =>
        Assert.Equal(message, ProviderErrors.ExtractMessage(body));

    [Fact]
    public void Network_failures_name_the_cause_and_mapped_errors_pass_unchanged()
    {
        var network = ProviderErrors.FromException(new HttpRequestException("outer", new IOException("Connection reset by peer")), "x")!;
        Assert.Equal(502, network.Status);
        Assert.Equal("Failed to send request from inference entity id [x]: Connection reset by peer", network.Reason);

        var mapped = ProviderErrors.FromStatus(429, "x", null);
        Assert.Same(mapped, ProviderErrors.FromException(mapped, "x"));
        Assert.Null(ProviderErrors.FromException(new InvalidOperationException("a bug"), "x"));
    }
}
