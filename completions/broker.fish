# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_broker_global_optspecs
    string join \n backend= config= v/verbose h/help V/version
end

function __fish_broker_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_broker_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_broker_using_subcommand
    set -l cmd (__fish_broker_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c broker -n "__fish_broker_needs_command" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_needs_command" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_needs_command" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_needs_command" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_needs_command" -f -a "add" -d 'Store an IAM user\'s access key for a profile'
complete -c broker -n "__fish_broker_needs_command" -f -a "list" -d 'List profiles, their stored keys and cached sessions'
complete -c broker -n "__fish_broker_needs_command" -f -a "remove" -d 'Delete the stored keys and cached sessions of a profile'
complete -c broker -n "__fish_broker_needs_command" -f -a "rotate" -d 'Replace a profile\'s access key with a new one'
complete -c broker -n "__fish_broker_needs_command" -f -a "exec" -d 'Run a command with credentials in its environment'
complete -c broker -n "__fish_broker_needs_command" -f -a "export" -d 'Print credentials for a profile'
complete -c broker -n "__fish_broker_needs_command" -f -a "login" -d 'Open the AWS console signed in as a profile'
complete -c broker -n "__fish_broker_needs_command" -f -a "clear" -d 'Drop cached sessions'
complete -c broker -n "__fish_broker_needs_command" -f -a "history" -d 'Show the audit log of issued and refused credentials'
complete -c broker -n "__fish_broker_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c broker -n "__fish_broker_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c broker -n "__fish_broker_using_subcommand add" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand add" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand add" -l env -d 'Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking'
complete -c broker -n "__fish_broker_using_subcommand add" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand add" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand list" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand list" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand list" -l json -d 'Print a JSON array instead of a table'
complete -c broker -n "__fish_broker_using_subcommand list" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand list" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand remove" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand remove" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand remove" -s f -l force -d 'Do not ask for confirmation'
complete -c broker -n "__fish_broker_using_subcommand remove" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand remove" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand rotate" -s t -l mfa-token -d 'The current code of the profile\'s MFA device, instead of asking for it' -r
complete -c broker -n "__fish_broker_using_subcommand rotate" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand rotate" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand rotate" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand exec" -s d -l duration -d 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)' -r
complete -c broker -n "__fish_broker_using_subcommand exec" -s t -l mfa-token -d 'The current code of the profile\'s MFA device, instead of asking for it' -r
complete -c broker -n "__fish_broker_using_subcommand exec" -l region -d 'The region for STS and for the credentials\' environment [default: the profile\'s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]' -r
complete -c broker -n "__fish_broker_using_subcommand exec" -l reason -d 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)' -r
complete -c broker -n "__fish_broker_using_subcommand exec" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand exec" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand exec" -l server -d 'Serve credentials from a local endpoint that refreshes them (the ECS container credentials protocol) instead of putting keys in the environment; for long jobs'
complete -c broker -n "__fish_broker_using_subcommand exec" -s n -l no-session -d 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
complete -c broker -n "__fish_broker_using_subcommand exec" -l yes -d 'Skip the typed confirmation of a break-glass profile (not its reason)'
complete -c broker -n "__fish_broker_using_subcommand exec" -l refresh -d 'Ignore cached credentials for this call, and replace them'
complete -c broker -n "__fish_broker_using_subcommand exec" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand exec" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand export" -s f -l format -d 'The output format' -r -f -a "env\t'`KEY=value` lines'
sh\t'`export KEY=\'value\'` lines, safe to `eval` in sh, bash and zsh'
fish\t'`set -gx KEY \'value\'` lines for fish'
powershell\t'`$env:KEY = \'value\'` lines for PowerShell'
json\t'The AWS `credential_process` JSON'
ini\t'A credentials-file section'"
complete -c broker -n "__fish_broker_using_subcommand export" -s d -l duration -d 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)' -r
complete -c broker -n "__fish_broker_using_subcommand export" -s t -l mfa-token -d 'The current code of the profile\'s MFA device, instead of asking for it' -r
complete -c broker -n "__fish_broker_using_subcommand export" -l region -d 'The region for STS and for the credentials\' environment [default: the profile\'s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]' -r
complete -c broker -n "__fish_broker_using_subcommand export" -l reason -d 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)' -r
complete -c broker -n "__fish_broker_using_subcommand export" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand export" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand export" -s n -l no-session -d 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
complete -c broker -n "__fish_broker_using_subcommand export" -l yes -d 'Skip the typed confirmation of a break-glass profile (not its reason)'
complete -c broker -n "__fish_broker_using_subcommand export" -l refresh -d 'Ignore cached credentials for this call, and replace them'
complete -c broker -n "__fish_broker_using_subcommand export" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand export" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand login" -s d -l duration -d 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)' -r
complete -c broker -n "__fish_broker_using_subcommand login" -s t -l mfa-token -d 'The current code of the profile\'s MFA device, instead of asking for it' -r
complete -c broker -n "__fish_broker_using_subcommand login" -l region -d 'The region for STS and for the credentials\' environment [default: the profile\'s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]' -r
complete -c broker -n "__fish_broker_using_subcommand login" -l reason -d 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)' -r
complete -c broker -n "__fish_broker_using_subcommand login" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand login" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand login" -l stdout -d 'Print the sign-in URL instead of opening a browser (it signs in whoever opens it)'
complete -c broker -n "__fish_broker_using_subcommand login" -s n -l no-session -d 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
complete -c broker -n "__fish_broker_using_subcommand login" -l yes -d 'Skip the typed confirmation of a break-glass profile (not its reason)'
complete -c broker -n "__fish_broker_using_subcommand login" -l refresh -d 'Ignore cached credentials for this call, and replace them'
complete -c broker -n "__fish_broker_using_subcommand login" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand login" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand clear" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand clear" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand clear" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand clear" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand clear" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand history" -l profile -d 'Only this profile' -r
complete -c broker -n "__fish_broker_using_subcommand history" -l since -d 'Only records newer than this, like 1h, 30m or 7d' -r
complete -c broker -n "__fish_broker_using_subcommand history" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand history" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand history" -l json -d 'One JSON object per line, as stored'
complete -c broker -n "__fish_broker_using_subcommand history" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand history" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand completions" -l backend -d 'Where long-term keys are stored [env: BROKER_BACKEND]' -r -f -a "secret-service\t'D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)'
keychain\t'The macOS Keychain (macOS default)'
wincred\t'The Windows Credential Manager (Windows default)'
keyutils\t'The Linux kernel keyring: fast, but lost at reboot'
file\t'age-encrypted files under `file_dir`, one per item, protected by a passphrase'"
complete -c broker -n "__fish_broker_using_subcommand completions" -l config -d 'broker\'s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]' -r -F
complete -c broker -n "__fish_broker_using_subcommand completions" -s v -l verbose -d 'Log what broker does to stderr (secrets are always redacted); repeat for more'
complete -c broker -n "__fish_broker_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c broker -n "__fish_broker_using_subcommand completions" -s V -l version -d 'Print version'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "add" -d 'Store an IAM user\'s access key for a profile'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "list" -d 'List profiles, their stored keys and cached sessions'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "remove" -d 'Delete the stored keys and cached sessions of a profile'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "rotate" -d 'Replace a profile\'s access key with a new one'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "exec" -d 'Run a command with credentials in its environment'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "export" -d 'Print credentials for a profile'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "login" -d 'Open the AWS console signed in as a profile'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "clear" -d 'Drop cached sessions'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "history" -d 'Show the audit log of issued and refused credentials'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c broker -n "__fish_broker_using_subcommand help; and not __fish_seen_subcommand_from add list remove rotate exec export login clear history completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
