namespace WebConsole.Inference.Generation.Templates;

/// <summary>Builds the node tree of a template from its segments (statements) and tokens (expressions).</summary>
internal sealed class JinjaParser
{
    private readonly List<Segment> _segments;
    private int _index;

    private JinjaParser(List<Segment> segments) => _segments = segments;

    public static List<Node> Parse(string source)
    {
        var parser = new JinjaParser(JinjaLexer.Segments(source));
        var (body, end) = parser.ParseBody([]);
        return end is null ? body : throw new JinjaException($"Unexpected {{% {end} %}}.");
    }

    /// <summary>Parses nodes until a statement whose first word is in <paramref name="terminators"/>; answers it (tokens) too.</summary>
    private (List<Node> Body, string? Terminator) ParseBody(string[] terminators, List<Token>? terminatorTokens = null)
    {
        List<Node> body = [];
        while (_index < _segments.Count)
        {
            var segment = _segments[_index++];
            switch (segment.Kind)
            {
                case SegmentKind.Text:
                    body.Add(new TextNode(segment.Content));
                    break;
                case SegmentKind.Output:
                    body.Add(new OutputNode(ExpressionParser.ParseAll(JinjaLexer.Tokens(segment.Content))));
                    break;
                default:
                    var tokens = JinjaLexer.Tokens(segment.Content);
                    var keyword = tokens[0].Text;
                    if (terminators.Contains(keyword))
                    {
                        terminatorTokens?.Clear();
                        terminatorTokens?.AddRange(tokens);
                        return (body, keyword);
                    }

                    body.Add(ParseStatement(keyword, tokens));
                    break;
            }
        }

        return terminators.Length == 0 ? (body, null) : throw new JinjaException($"Missing {{% {terminators[^1]} %}}.");
    }

    private Node ParseStatement(string keyword, List<Token> tokens)
    {
        var expression = new ExpressionParser(tokens, 1);
        switch (keyword)
        {
            case "if":
                return ParseIf(expression);
            case "for":
                {
                    List<string> targets = [expression.ExpectName()];
                    while (expression.Accept(","))
                    {
                        targets.Add(expression.ExpectName());
                    }

                    expression.ExpectName("in");
                    var iterable = expression.ParseExpression(allowConditional: false);
                    Expr? filter = expression.AcceptName("if") ? expression.ParseExpression(allowConditional: false) : null;
                    expression.AcceptName("recursive");
                    expression.ExpectEnd();
                    var (body, end) = ParseBody(["else", "endfor"]);
                    List<Node> otherwise = [];
                    if (end == "else")
                    {
                        otherwise = ParseBody(["endfor"]).Body;
                    }

                    return new ForNode(targets, iterable, filter, body, otherwise);
                }

            case "set":
                {
                    var name = expression.ExpectName();
                    string? attribute = expression.Accept(".") ? expression.ExpectName() : null;
                    List<string> names = [name];
                    while (attribute is null && expression.Accept(","))
                    {
                        names.Add(expression.ExpectName());
                    }

                    if (expression.Accept("="))
                    {
                        var value = expression.ParseTuple();
                        expression.ExpectEnd();
                        return new SetNode(names, attribute, value, null);
                    }

                    expression.ExpectEnd();
                    return new SetNode(names, attribute, null, ParseBody(["endset"]).Body);
                }

            case "macro":
                {
                    var name = expression.ExpectName();
                    expression.Expect("(");
                    List<(string Name, Expr? Default)> parameters = [];
                    while (!expression.Accept(")"))
                    {
                        var parameter = expression.ExpectName();
                        Expr? fallback = expression.Accept("=") ? expression.ParseExpression() : null;
                        parameters.Add((parameter, fallback));
                        expression.Accept(",");
                    }

                    expression.ExpectEnd();
                    return new MacroNode(name, parameters, ParseBody(["endmacro"]).Body);
                }

            case "break":
                return new BreakNode();
            case "continue":
                return new ContinueNode();
            case "generation":
                return new BlockNode(ParseBody(["endgeneration"]).Body);
            case "filter":
                {
                    var name = expression.ExpectName();
                    var arguments = expression.Accept("(") ? expression.ParseArguments() : new Arguments([], []);
                    expression.ExpectEnd();
                    return new FilterBlockNode(name, arguments, ParseBody(["endfilter"]).Body);
                }

            case "do":
                {
                    var value = expression.ParseExpression();
                    expression.ExpectEnd();
                    return new DoNode(value);
                }

            default:
                throw new JinjaException($"Unsupported statement {{% {keyword} %}}.");
        }
    }

    private IfNode ParseIf(ExpressionParser expression)
    {
        var condition = expression.ParseExpression();
        expression.ExpectEnd();
        List<Token> terminator = [];
        var (body, end) = ParseBody(["elif", "else", "endif"], terminator);
        List<Node> otherwise = [];
        if (end == "elif")
        {
            otherwise = [ParseIf(new ExpressionParser(terminator, 1))];
        }
        else if (end == "else")
        {
            otherwise = ParseBody(["endif"]).Body;
        }

        return new IfNode(condition, body, otherwise);
    }
}

/// <summary>Pratt-style expression parser with Jinja's precedence (or, and, not, comparisons, ~, + -, * / // %, **, unary, postfix, filters, tests).</summary>
internal sealed class ExpressionParser(List<Token> tokens, int start)
{
    private int _position = start;

    private Token Current => tokens[_position];

    public static Expr ParseAll(List<Token> tokens)
    {
        var parser = new ExpressionParser(tokens, 0);
        var expression = parser.ParseTuple();
        parser.ExpectEnd();
        return expression;
    }

    public bool Accept(string op)
    {
        if (Current.Kind == TokenKind.Operator && Current.Text == op)
        {
            _position++;
            return true;
        }

        return false;
    }

    public bool AcceptName(string name)
    {
        if (Current.Kind == TokenKind.Name && Current.Text == name)
        {
            _position++;
            return true;
        }

        return false;
    }

    public void Expect(string op)
    {
        if (!Accept(op))
        {
            throw new JinjaException($"Expected '{op}' but found '{Current.Text}'.");
        }
    }

    public string ExpectName(string? name = null)
    {
        if (Current.Kind != TokenKind.Name || (name is not null && Current.Text != name))
        {
            throw new JinjaException($"Expected {name ?? "a name"} but found '{Current.Text}'.");
        }

        return tokens[_position++].Text;
    }

    public void ExpectEnd()
    {
        if (Current.Kind != TokenKind.End)
        {
            throw new JinjaException($"Unexpected '{Current.Text}'.");
        }
    }

    /// <summary>An expression or a bare tuple (<c>a, b</c>).</summary>
    public Expr ParseTuple()
    {
        var first = ParseExpression();
        if (Current.Kind != TokenKind.Operator || Current.Text != ",")
        {
            return first;
        }

        List<Expr> items = [first];
        while (Accept(","))
        {
            if (Current.Kind == TokenKind.End)
            {
                break;
            }

            items.Add(ParseExpression());
        }

        return new ListExpr(items);
    }

    public Expr ParseExpression(bool allowConditional = true)
    {
        var value = ParseOr();
        if (allowConditional && AcceptName("if"))
        {
            var condition = ParseOr();
            Expr otherwise = AcceptName("else") ? ParseExpression() : new ConstantExpr(JinjaUndefined.Instance);
            return new ConditionalExpr(condition, value, otherwise);
        }

        return value;
    }

    public Arguments ParseArguments()
    {
        List<Expr> positional = [];
        List<(string, Expr)> named = [];
        while (!Accept(")"))
        {
            if (Current.Kind == TokenKind.Name && tokens[_position + 1] is { Kind: TokenKind.Operator, Text: "=" })
            {
                var name = tokens[_position].Text;
                _position += 2;
                named.Add((name, ParseExpression()));
            }
            else
            {
                positional.Add(ParseExpression());
            }

            if (!Accept(","))
            {
                Expect(")");
                break;
            }
        }

        return new Arguments(positional, named);
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (AcceptName("or"))
        {
            left = new LogicalExpr(left, ParseAnd(), isAnd: false);
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (AcceptName("and"))
        {
            left = new LogicalExpr(left, ParseNot(), isAnd: true);
        }

        return left;
    }

    private Expr ParseNot() => AcceptName("not") ? new NotExpr(ParseNot()) : ParseCompare();

    private Expr ParseCompare()
    {
        var left = ParseConcat();
        while (true)
        {
            string? op = null;
            if (Current.Kind == TokenKind.Operator && Current.Text is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                op = tokens[_position++].Text;
            }
            else if (AcceptName("in"))
            {
                op = "in";
            }
            else if (Current.Kind == TokenKind.Name && Current.Text == "not" && tokens[_position + 1] is { Kind: TokenKind.Name, Text: "in" })
            {
                _position += 2;
                op = "not in";
            }

            if (op is null)
            {
                return left;
            }

            left = new BinaryExpr(op, left, ParseConcat());
        }
    }

    private Expr ParseConcat()
    {
        var left = ParseAdditive();
        while (Accept("~"))
        {
            left = new BinaryExpr("~", left, ParseAdditive());
        }

        return left;
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Current.Kind == TokenKind.Operator && Current.Text is "+" or "-")
        {
            var op = tokens[_position++].Text;
            left = new BinaryExpr(op, left, ParseMultiplicative());
        }

        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParsePower();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = tokens[_position++].Text;
            left = new BinaryExpr(op, left, ParsePower());
        }

        return left;
    }

    private Expr ParsePower()
    {
        var left = ParseUnary();
        while (Accept("**"))
        {
            left = new BinaryExpr("**", left, ParseUnary());
        }

        return left;
    }

    private Expr ParseUnary()
    {
        if (Accept("-"))
        {
            return new BinaryExpr("-", new ConstantExpr(0L), ParseUnary());
        }

        if (Accept("+"))
        {
            return ParseUnary();
        }

        return ParseFiltersAndTests(ParsePostfix(ParsePrimary()));
    }

    private Expr ParsePrimary()
    {
        var token = tokens[_position++];
        switch (token.Kind)
        {
            case TokenKind.String:
                {
                    // Adjacent string literals concatenate, as in Python.
                    var text = (string)token.Value!;
                    while (Current.Kind == TokenKind.String)
                    {
                        text += (string)tokens[_position++].Value!;
                    }

                    return new ConstantExpr(text);
                }

            case TokenKind.Integer:
            case TokenKind.Float:
                return new ConstantExpr(token.Value);
            case TokenKind.Name:
                return token.Text switch
                {
                    "true" or "True" => new ConstantExpr(true),
                    "false" or "False" => new ConstantExpr(false),
                    "none" or "None" => new ConstantExpr(null),
                    _ => new NameExpr(token.Text),
                };
            case TokenKind.Operator when token.Text == "(":
                {
                    if (Accept(")"))
                    {
                        return new ListExpr([]);
                    }

                    var inner = ParseTuple();
                    Expect(")");
                    return inner;
                }

            case TokenKind.Operator when token.Text == "[":
                {
                    List<Expr> items = [];
                    while (!Accept("]"))
                    {
                        items.Add(ParseExpression());
                        if (!Accept(","))
                        {
                            Expect("]");
                            break;
                        }
                    }

                    return new ListExpr(items);
                }

            case TokenKind.Operator when token.Text == "{":
                {
                    List<(Expr, Expr)> entries = [];
                    while (!Accept("}"))
                    {
                        var key = ParseExpression();
                        Expect(":");
                        entries.Add((key, ParseExpression()));
                        if (!Accept(","))
                        {
                            Expect("}");
                            break;
                        }
                    }

                    return new DictExpr(entries);
                }

            default:
                throw new JinjaException($"Unexpected '{token.Text}'.");
        }
    }

    private Expr ParsePostfix(Expr target)
    {
        while (true)
        {
            if (Accept("."))
            {
                target = new MemberExpr(target, new ConstantExpr(ExpectName()));
            }
            else if (Accept("["))
            {
                target = ParseSubscript(target);
            }
            else if (Accept("("))
            {
                target = new CallExpr(target, ParseArguments());
            }
            else
            {
                return target;
            }
        }
    }

    private Expr ParseSubscript(Expr target)
    {
        Expr? Part() => Current.Kind == TokenKind.Operator && Current.Text is ":" or "]" ? null : ParseExpression();

        var first = Part();
        if (Accept("]"))
        {
            return new MemberExpr(target, first ?? throw new JinjaException("Empty subscript."));
        }

        Expect(":");
        var stop = Part();
        Expr? step = null;
        if (Accept(":"))
        {
            step = Part();
        }

        Expect("]");
        return new SliceExpr(target, first, stop, step);
    }

    private Expr ParseFiltersAndTests(Expr value)
    {
        while (true)
        {
            if (Accept("|"))
            {
                var name = ExpectName();
                var arguments = Accept("(") ? ParseArguments() : new Arguments([], []);
                value = new FilterExpr(value, name, arguments);
            }
            else if (AcceptName("is"))
            {
                var negated = AcceptName("not");
                var name = Current.Kind == TokenKind.Name ? ExpectName() : tokens[_position++].Text;
                Arguments arguments;
                if (Accept("("))
                {
                    arguments = ParseArguments();
                }
                else if (Current.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
                    || (Current.Kind == TokenKind.Name && Current.Text is not ("and" or "or" or "else" or "if" or "is" or "not" or "in")))
                {
                    arguments = new Arguments([ParsePostfix(ParsePrimary())], []);
                }
                else
                {
                    arguments = new Arguments([], []);
                }

                value = new TestExpr(value, name, arguments, negated);
            }
            else
            {
                return value;
            }
        }
    }
}
