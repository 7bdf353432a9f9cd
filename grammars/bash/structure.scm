; The syntax the shell analysis reads from a tree-sitter-bash tree, one capture per kind of
; statement it cares about. The analysis (src/shell/) interprets the captured nodes. It finds
; them with one walk of the tree (`shell::tree::structure`), which a test holds to these
; patterns: compiling the query took longer than parsing most scripts.

; Every simple command, wherever it sits: lists, pipelines, conditions, loops, functions,
; subshells, command substitutions and backticks.
(command) @command

; Variable assignments, on their own, before a command, or inside export/local/readonly/declare.
(variable_assignment
  name: (variable_name) @assignment.name) @assignment

; `export`, `declare -x` and friends: whether the assigned variables reach child processes.
(declaration_command) @declaration

; `for NAME in WORDS`: the loop variable takes each of the words.
(for_statement
  variable: (variable_name) @loop.name) @loop

; Function definitions: a token fetched inside one is produced by every call.
(function_definition
  name: (word) @function.name
  body: (_) @function.body) @function

; Here-documents: fed to a shell they are shell code.
(heredoc_redirect
  (heredoc_body) @heredoc.body) @heredoc
