; RV206: calls of the panic built-in.
(call_expression
  function: (identifier) @function
  (#eq? @function "panic")) @finding
