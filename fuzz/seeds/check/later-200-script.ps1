È# A request in an if branch: the fetch goes before the if statement.
if (Test-Path C:\aws) {
    $id = Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/instance-id # expect: IMDS001
}
