<?php
// Debian installs the framework and its dependencies under /usr/share/php with their own
// autoloaders (there is no Composer vendor/ here); the app's classes are PSR-4 under app/.
require_once '/usr/share/php/Illuminate/autoload.php';

spl_autoload_register(function (string $class): void {
    if (strncmp($class, 'App\\', 4) === 0) {
        $file = __DIR__ . '/../app/' . str_replace('\\', '/', substr($class, 4)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
