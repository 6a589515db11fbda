using System.Text;

namespace WebConsole.Inference.Generation.Templates;

/// <summary>Variables visible at one point of rendering; for-loops and macros open a child scope, as in Jinja.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    public Scope? Parent => parent;

    public object? Get(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out var value))
            {
                return value;
            }
        }

        return JinjaUndefined.Instance;
    }

    public void Set(string name, object? value) => _variables[name] = value;
}

internal sealed record Arguments(List<Expr> Positional, List<(string Name, Expr Value)> Named)
{
    public (List<object?> Positional, Dictionary<string, object?> Named) Evaluate(Scope scope) =>
        ([.. Positional.Select(p => p.Evaluate(scope))], Named.ToDictionary(n => n.Name, n => n.Value.Evaluate(scope), StringComparer.Ordinal));
}

internal abstract class Node
{
    public abstract void Render(Scope scope, StringBuilder output);

    public static void RenderAll(List<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            node.Render(scope, output);
        }
    }
}

internal sealed class TextNode(string text) : Node
{
    public override void Render(Scope scope, StringBuilder output) => output.Append(text);
}

internal sealed class OutputNode(Expr value) : Node
{
    public override void Render(Scope scope, StringBuilder output) => output.Append(JinjaValues.ToText(value.Evaluate(scope)));
}

internal sealed class BlockNode(List<Node> body) : Node
{
    public override void Render(Scope scope, StringBuilder output) => RenderAll(body, scope, output);
}

internal sealed class DoNode(Expr value) : Node
{
    public override void Render(Scope scope, StringBuilder output) => value.Evaluate(scope);
}

internal sealed class IfNode(Expr condition, List<Node> body, List<Node> otherwise) : Node
{
    public override void Render(Scope scope, StringBuilder output) =>
        RenderAll(JinjaValues.IsTrue(condition.Evaluate(scope)) ? body : otherwise, scope, output);
}

internal sealed class BreakSignal : Exception;

internal sealed class ContinueSignal : Exception;

internal sealed class BreakNode : Node
{
    public override void Render(Scope scope, StringBuilder output) => throw new BreakSignal();
}

internal sealed class ContinueNode : Node
{
    public override void Render(Scope scope, StringBuilder output) => throw new ContinueSignal();
}

internal sealed class ForNode(List<string> targets, Expr iterable, Expr? filter, List<Node> body, List<Node> otherwise) : Node
{
    public override void Render(Scope scope, StringBuilder output)
    {
        var items = JinjaValues.Iterate(iterable.Evaluate(scope)).ToList();
        if (filter is not null)
        {
            items = [.. items.Where(item =>
            {
                var probe = new Scope(scope);
                Bind(probe, item);
                return JinjaValues.IsTrue(filter.Evaluate(probe));
            })];
        }

        if (items.Count == 0)
        {
            Node.RenderAll(otherwise, scope, output);
            return;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var inner = new Scope(scope);
            Bind(inner, items[i]);
            inner.Set("loop", new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : JinjaUndefined.Instance,
                ["nextitem"] = i + 1 < items.Count ? items[i + 1] : JinjaUndefined.Instance,
            });
            try
            {
                Node.RenderAll(body, inner, output);
            }
            catch (ContinueSignal)
            {
            }
            catch (BreakSignal)
            {
                break;
            }
        }
    }

    private void Bind(Scope scope, object? item)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], item);
            return;
        }

        var parts = JinjaValues.Iterate(item).ToList();
        for (var i = 0; i < targets.Count; i++)
        {
            scope.Set(targets[i], i < parts.Count ? parts[i] : JinjaUndefined.Instance);
        }
    }
}

internal sealed class SetNode(List<string> names, string? attribute, Expr? value, List<Node>? body) : Node
{
    public override void Render(Scope scope, StringBuilder output)
    {
        object? result;
        if (body is not null)
        {
            var captured = new StringBuilder();
            Node.RenderAll(body, scope, captured);
            result = captured.ToString();
        }
        else
        {
            result = value!.Evaluate(scope);
        }

        if (attribute is not null)
        {
            if (scope.Get(names[0]) is not JinjaNamespace target)
            {
                throw new JinjaException($"Cannot set {names[0]}.{attribute}: only namespace() objects take attributes.");
            }

            target[attribute] = result;
            return;
        }

        if (names.Count == 1)
        {
            scope.Set(names[0], result);
            return;
        }

        var parts = JinjaValues.Iterate(result).ToList();
        for (var i = 0; i < names.Count; i++)
        {
            scope.Set(names[i], i < parts.Count ? parts[i] : JinjaUndefined.Instance);
        }
    }
}

internal sealed class MacroNode(string name, List<(string Name, Expr? Default)> parameters, List<Node> body) : Node
{
    public override void Render(Scope scope, StringBuilder output)
    {
        scope.Set(name, new JinjaFunction((positional, named) =>
        {
            var inner = new Scope(scope);
            for (var i = 0; i < parameters.Count; i++)
            {
                var (parameter, fallback) = parameters[i];
                inner.Set(parameter, i < positional.Count ? positional[i]
                    : named.TryGetValue(parameter, out var given) ? given
                    : fallback?.Evaluate(scope) ?? JinjaUndefined.Instance);
            }

            var text = new StringBuilder();
            Node.RenderAll(body, inner, text);
            return text.ToString();
        }));
    }
}

internal sealed class FilterBlockNode(string name, Arguments arguments, List<Node> body) : Node
{
    public override void Render(Scope scope, StringBuilder output)
    {
        var captured = new StringBuilder();
        Node.RenderAll(body, scope, captured);
        var (positional, named) = arguments.Evaluate(scope);
        output.Append(JinjaValues.ToText(JinjaBuiltins.Filter(name, captured.ToString(), positional, named)));
    }
}

internal abstract class Expr
{
    public abstract object? Evaluate(Scope scope);
}

internal sealed class ConstantExpr(object? value) : Expr
{
    public override object? Evaluate(Scope scope) => value;
}

internal sealed class NameExpr(string name) : Expr
{
    public override object? Evaluate(Scope scope) => scope.Get(name);
}

internal sealed class ListExpr(List<Expr> items) : Expr
{
    public override object? Evaluate(Scope scope) => items.Select(i => i.Evaluate(scope)).ToList();
}

internal sealed class DictExpr(List<(Expr Key, Expr Value)> entries) : Expr
{
    public override object? Evaluate(Scope scope)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            result[JinjaValues.ToText(key.Evaluate(scope))] = value.Evaluate(scope);
        }

        return result;
    }
}

internal sealed class ConditionalExpr(Expr condition, Expr value, Expr otherwise) : Expr
{
    public override object? Evaluate(Scope scope) =>
        JinjaValues.IsTrue(condition.Evaluate(scope)) ? value.Evaluate(scope) : otherwise.Evaluate(scope);
}

internal sealed class LogicalExpr(Expr left, Expr right, bool isAnd) : Expr
{
    public override object? Evaluate(Scope scope)
    {
        // Python semantics: the deciding operand itself is the result.
        var first = left.Evaluate(scope);
        return JinjaValues.IsTrue(first) == isAnd ? right.Evaluate(scope) : first;
    }
}

internal sealed class NotExpr(Expr value) : Expr
{
    public override object? Evaluate(Scope scope) => !JinjaValues.IsTrue(value.Evaluate(scope));
}

internal sealed class BinaryExpr(string op, Expr left, Expr right) : Expr
{
    public override object? Evaluate(Scope scope) => JinjaValues.Binary(op, left.Evaluate(scope), right.Evaluate(scope));
}

internal sealed class MemberExpr(Expr target, Expr key) : Expr
{
    public override object? Evaluate(Scope scope) => JinjaValues.Member(target.Evaluate(scope), key.Evaluate(scope));
}

internal sealed class SliceExpr(Expr target, Expr? start, Expr? stop, Expr? step) : Expr
{
    public override object? Evaluate(Scope scope) =>
        JinjaValues.Slice(target.Evaluate(scope), start?.Evaluate(scope), stop?.Evaluate(scope), step?.Evaluate(scope));
}

internal sealed class CallExpr(Expr target, Arguments arguments) : Expr
{
    public override object? Evaluate(Scope scope)
    {
        var function = target.Evaluate(scope) as JinjaFunction ?? throw new JinjaException("Called a value that is not callable.");
        var (positional, named) = arguments.Evaluate(scope);
        return function.Invoke(positional, named);
    }
}

internal sealed class FilterExpr(Expr value, string name, Arguments arguments) : Expr
{
    public override object? Evaluate(Scope scope)
    {
        var (positional, named) = arguments.Evaluate(scope);
        return JinjaBuiltins.Filter(name, value.Evaluate(scope), positional, named);
    }
}

internal sealed class TestExpr(Expr value, string name, Arguments arguments, bool negated) : Expr
{
    public override object? Evaluate(Scope scope)
    {
        var (positional, _) = arguments.Evaluate(scope);
        return JinjaBuiltins.Test(name, value.Evaluate(scope), positional) != negated;
    }
}
