using WebConsole.Infrastructure.Audit;

namespace WebConsole.Unit.Audit;

public sealed class AuditDetailsTests
{
    [Fact]
    public void Secret_fields_of_json_details_are_masked_at_any_depth()
    {
        var details = """{"service":"openai","service_settings":{"api_key":"sk-123","model_id":"m"},"headers":[{"Authorization":"Bearer x"}],"password":"p4ss"}""";

        var redacted = AuditDetails.Redact(details)!;

        Assert.DoesNotContain("sk-123", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer x", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("p4ss", redacted, StringComparison.Ordinal);
        Assert.Contains("\"model_id\":\"m\"", redacted, StringComparison.Ordinal);
        Assert.Contains("\"service\":\"openai\"", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Details_built_from_an_object_never_carry_a_secret_property()
    {
        var json = AuditDetails.ToJson(new { Name = "key", ApiKey = "sk-456", Encoded = "YWJj" });

        Assert.Equal("""{"name":"key","api_key":"[redacted]","encoded":"[redacted]"}""", json);
    }

    [Fact]
    public void Plain_text_details_are_kept_as_written()
    {
        Assert.Equal("name=ci; role=inference_user", AuditDetails.Redact("name=ci; role=inference_user"));
        Assert.Null(AuditDetails.Redact(null));
    }
}
