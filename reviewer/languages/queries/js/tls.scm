; RV608: TLS certificate verification turned off in Node.
; { rejectUnauthorized: false }
(pair
  key: (_) @key
  value: (false)
  (#match? @key "^[\"']?rejectUnauthorized[\"']?$")) @finding
; process.env.NODE_TLS_REJECT_UNAUTHORIZED = <value> (the rule checks the value is "0")
(assignment_expression
  left: (_) @left
  right: (_) @value
  (#match? @left "NODE_TLS_REJECT_UNAUTHORIZED$")) @assign
