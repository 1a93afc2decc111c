<?php
namespace App\Models;

use Illuminate\Database\Eloquent\Model;

class World extends Model
{
    protected $table = 'world';
    public $timestamps = false;
    protected $casts = ['id' => 'integer', 'randomnumber' => 'integer'];

    public function toBench(): array
    {
        return ['id' => $this->id, 'randomNumber' => $this->randomnumber];
    }
}
