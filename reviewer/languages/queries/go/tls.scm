; RV608: tls.Config{InsecureSkipVerify: true} and cfg.InsecureSkipVerify = true.
(keyed_element
  .
  (_) @key
  .
  (_) @value
  .
  (#eq? @key "InsecureSkipVerify")
  (#eq? @value "true")) @finding
(assignment_statement
  left: (_) @left
  right: (_) @value
  (#match? @left "InsecureSkipVerify$")
  (#eq? @value "true")) @finding
